"""The operations floor's asset side: the asset register (``register/``) and the handover batches that fill it
(``handover/``). Imports go one way, handover → register: the spreadsheet columns both read and write are the
register's (``register/columns.py``), and each room exports its own file (``exports.py``)."""
