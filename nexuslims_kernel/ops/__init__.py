"""Operations a facility relies on for years: backup and restore, fixity audits, metrics.

One module per job: :mod:`.backup` and :mod:`.restore` (with :mod:`.manifest`,
:mod:`.dbcopy` and :mod:`.secretbox`), :mod:`.fixity`, :mod:`.metrics`.
"""
