"""The model's life: training, the model card, the shipped store, evaluation, generalisation."""
