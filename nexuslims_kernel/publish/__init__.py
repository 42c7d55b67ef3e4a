"""Publication: curation after the fact, record versions, DataCite DOIs, OAI-PMH and landing pages.

One module per job:

- :mod:`.curation` — who may curate, validating and applying a change, versions;
- :mod:`.merge` — laying the curation over the builder's record on every read;
- :mod:`.markdown` — descriptions: Markdown in, sanitised HTML out;
- :mod:`.datacite` — DataCite metadata from a record, schema check, minting a DOI;
- :mod:`.oai` — the OAI-PMH 2.0 repository (``oai_dc``, ``oai_datacite``);
- :mod:`.landing` — landing pages (no JavaScript) with schema.org ``Dataset`` JSON-LD.
"""
