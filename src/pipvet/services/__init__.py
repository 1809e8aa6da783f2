"""Services: operations that combine sources and the core for commands and other parts."""
