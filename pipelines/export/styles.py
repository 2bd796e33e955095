"""candidates.qml: a QGIS style beside the layer, graduated by score (QGIS loads it by name)."""

from __future__ import annotations

# (lower, upper, colour, label): yellow for weak candidates to dark red for alerts.
BANDS = [(0.0, 0.5, "255,255,178,255", "0.0 to 0.5"), (0.5, 0.7, "254,204,92,255", "0.5 to 0.7"),
         (0.7, 0.85, "253,141,60,255", "0.7 to 0.85"), (0.85, 0.95, "240,59,32,255",
                                                          "0.85 to 0.95"),
         (0.95, 1.0001, "189,0,38,255", "0.95 to 1.0")]


def _symbol(index: int, colour: str) -> str:
    return (f'<symbol type="fill" name="{index}" alpha="0.85" clip_to_extent="1" '
            f'force_rhr="0"><layer class="SimpleFill" enabled="1" locked="0" pass="0">'
            f'<Option type="Map"><Option name="color" type="QString" value="{colour}"/>'
            f'<Option name="outline_color" type="QString" value="35,35,35,255"/>'
            f'<Option name="outline_width" type="QString" value="0.4"/>'
            f'<Option name="style" type="QString" value="solid"/></Option></layer></symbol>')


def qml_style() -> str:
    """QGIS layer style: polygons graduated on `score`, labelled with est_it_mw."""
    ranges = "".join(f'<range lower="{lo}" upper="{hi}" symbol="{i}" label="{label}" '
                     f'render="true"/>' for i, (lo, hi, _, label) in enumerate(BANDS))
    symbols = "".join(_symbol(i, colour) for i, (_, _, colour, _) in enumerate(BANDS))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.34" styleCategories="Symbology|Labeling">\n'
        '<renderer-v2 type="graduatedSymbol" attr="score" graduatedMethod="GraduatedColor" '
        'symbollevels="0" enableorderby="0">\n'
        f"<ranges>{ranges}</ranges>\n<symbols>{symbols}</symbols>\n"
        '<mode name="manual"/>\n</renderer-v2>\n'
        '<labeling type="simple"><settings calloutType="simple"><text-style '
        'fieldName="coalesce(round(&quot;est_it_mw&quot;) || \' MW\', \'\')" isExpression="1" '
        'fontSize="8" textColor="20,20,20,255"/><text-buffer bufferDraw="1" bufferSize="0.8" '
        'bufferColor="255,255,255,255"/><placement placement="1"/></settings></labeling>\n'
        "</qgis>\n")
