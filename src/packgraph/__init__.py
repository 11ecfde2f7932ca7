"""packgraph: prepaid session packs for clinics, salons and studios."""

__version__ = "0.1.0"
