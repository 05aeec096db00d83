"""Response schemas of the API, one module per area; routes name them with ``returns=``."""
