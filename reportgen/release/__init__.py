"""The release workflow: the archive of versions, the regression gate, gh-pages, a local preview."""
