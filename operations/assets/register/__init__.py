"""The asset register: what each department owns, who operates it, and every change to it."""
