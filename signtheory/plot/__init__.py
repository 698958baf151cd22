"""Figures (matplotlib, imported only when a figure is drawn): fits of measured rates
against the theory (:mod:`signtheory.plot.fits`) and curves with bands over seeds
(:mod:`signtheory.plot.curves`)."""
