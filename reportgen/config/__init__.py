"""The config: its typed schema (schema.py, sections.py, checks.py), how a file is read (yamlread.py) and
the files it names checked (paths.py), the wording of its errors (words.py), and the starter files of
``init`` (starter.py). Import the schema's names from reportgen.config.schema."""
