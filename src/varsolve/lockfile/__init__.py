"""pylock.toml (PEP 751) with wheel variants (PEP 825): lock, re-check, install.

* :mod:`.targets`: ``--target`` files and how targets are told apart by markers;
* :mod:`.writer`: resolutions -> a lock document, built through ``packaging.pylock``;
* :mod:`.universal`: a universal resolution -> one lock for every environment (and its
  ``lock --check``); :mod:`.install` installs its fork for the machine;
* :mod:`.document`: reading and validating a lock (packaging's model + variants-json);
* :mod:`.tomlio`: deterministic TOML;
* :mod:`.interpreter`: what a target interpreter is (markers, tags, install paths);
* :mod:`.fetch`: download or copy, verify size and hashes;
* :mod:`.install`: PEP 751 installation steps + PEP 825 variant selection;
* :mod:`.drift`: ``lock --check``.

docs/lock.md explains the design.
"""
