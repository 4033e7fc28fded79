"""The operations floor's asset side: the asset register (``register/``) and the handover batches that fill it
(``handover/``), with the spreadsheet formats both read and write (``columns.py``, ``sheets.py``)."""
