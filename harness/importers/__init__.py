"""Importers: start a scenario and an SLA from what a team already has.

Public names (pinned by tests/harness/test_faces.py):

    import_har(path, name=None, include_hosts=None) -> Imported
                                  a browser recording (DevTools "Save all as HAR") as one flow
                                  journey: static assets and third-party hosts left out,
                                  recorded think times, ids and tokens correlated, secrets as
                                  ${env:NAME}
    import_openapi(source, name=None, base_url=None, server=None) -> Imported
                                  an OpenAPI 3.0/3.1 document (file or URL) as one journey per
                                  read operation with example parameters
    Imported                      what an importer made: the scenario and SLA drafts, notes,
                                  the environment variables to set and the recorded target
    write_imported(imported, out=None, sla_out=None, force=False) -> str
                                  writes scenarios/NAME.yaml and sla.yaml (checked through
                                  harness.spec first, never over a file unless forced) and
                                  returns what to tell the user
"""

from harness.importers._draft import Imported
from harness.importers._har import import_har
from harness.importers._openapi import import_openapi
from harness.importers._write import write_imported

__all__ = ["Imported", "import_har", "import_openapi", "write_imported"]
