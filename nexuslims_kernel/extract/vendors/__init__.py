"""Vendor plugins that read what rosettasciio only passes through, one module per format.

Each module holds its spec table (normalised field -> vendor keys and units)
beside the code that reads the vendor's layout. They use only the public
plugin API (:class:`~nexuslims_kernel.extract.registry.Extractor`) and are
published through the ``nexuslims_kernel.extractors`` entry point, like a
third-party package would; :func:`plugins` is that entry point.
"""

from __future__ import annotations

from nexuslims_kernel.extract.registry import Extractor


def plugins() -> list[Extractor]:
    """One instance of every vendor plugin."""
    from nexuslims_kernel.extract.vendors.fei import FeiTiffExtractor
    from nexuslims_kernel.extract.vendors.orion import OrionFibicsTiffExtractor, OrionZeissTiffExtractor
    from nexuslims_kernel.extract.vendors.tescan import TescanTiffExtractor
    from nexuslims_kernel.extract.vendors.tia_ser import LoneSerExtractor
    from nexuslims_kernel.extract.vendors.tofwerk import TofwerkSimsExtractor

    return [TescanTiffExtractor(), FeiTiffExtractor(), OrionZeissTiffExtractor(), OrionFibicsTiffExtractor(),
            TofwerkSimsExtractor(), LoneSerExtractor()]
