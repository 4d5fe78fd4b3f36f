"""The results document, the public contract between measuring and rendering: read, write, upgrade."""
