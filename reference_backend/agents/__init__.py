"""One module per agent of the seed platform; each holds its service and its routes."""
