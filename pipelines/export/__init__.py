"""Writers of the outputs: candidates (SPEC output contract v1), QGIS style, evidence packets."""
