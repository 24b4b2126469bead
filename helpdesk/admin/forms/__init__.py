"""The administration's forms, one module per area."""
