"""The wheel-variant model of PEP 825 (reading PEP 817 and PEP 850 data too).

One module per concept: :mod:`.properties` (``namespace :: feature :: value``), :mod:`.labels`,
:mod:`.filenames`, :mod:`.metadata` (``variant.json`` and ``*-variants.json``), :mod:`.ordering`
(the filter-and-order algorithm) and :mod:`.markers` (the four variant markers).
"""
