"""Moving in from, and handing records on to, other systems: one module per job.

``eln`` writes the ELN Consortium's ``.eln`` archive (eLabFTW, Kadi4Mat, ... import it);
``nexuslims_import`` reads a NexusLIMS 1.x/2.x database into ours; ``cdcs`` pushes a
record's XML to a CDCS instance.
"""
