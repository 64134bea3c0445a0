"""Registered domains and platform matching. Pure: no I/O (look-alikes: `lookalikes.py`).

The registered domain comes from tldextract built on its *bundled* Public Suffix List snapshot
(`suffix_list_urls=()`): classifying a link never touches the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, NamedTuple, TypeVar

T = TypeVar("T")


class DomainInfo(NamedTuple):
    """A host split at its public suffix.

    For `us02web.zoom.us`: `registered` is `zoom.us`, `label` is `zoom`, `suffix` is `us`,
    `subdomain` is `us02web`. `registered` is empty when the host is itself a public suffix.
    `private` is true when the suffix is from the list's private section (`github.io`): each
    site under it has its own owner.
    """

    host: str
    registered: str
    label: str
    suffix: str
    subdomain: str
    private: bool = False


class DomainResolver:
    """Registered domains from the bundled Public Suffix List (ICANN and private sections).

    Private-section suffixes (`blogspot.com`, `github.io`…) count: every site under them has its
    own owner, so `zoom.github.io` is not GitHub's.
    """

    def __init__(self) -> None:
        self._extractor: Any = None

    def _extract(self, host: str) -> Any:
        # Built on first use: tldextract (and the requests it imports) costs ~0.2 s to load,
        # which `meetguard scan` of local files never needs. Two threads racing here build
        # two equal extractors; either is fine.
        if self._extractor is None:
            import tldextract

            self._extractor = tldextract.TLDExtract(
                suffix_list_urls=(),  # bundled snapshot only: never the network
                cache_dir=None,
                fallback_to_snapshot=True,
                include_psl_private_domains=True,
            )
        return self._extractor.extract_str(host)

    def info(self, host: str) -> DomainInfo:
        """The host split at its public suffix (not memoised: the policy's host memo is)."""
        host = host.rstrip(".").lower()
        # A single label is at most a TLD, and an empty label makes no domain at all.
        if "." not in host or host.startswith(".") or ".." in host:
            return DomainInfo(host, "", "", "", "")
        parts = self._extract(host)
        label, suffix, sub = parts.domain, parts.suffix, parts.subdomain
        if not suffix and "." in host:
            # PSL's default rule "*": an unlisted TLD is itself the public suffix.
            sub_and_label, _, suffix = host.rpartition(".")
            sub, _, label = sub_and_label.rpartition(".")
        if not label:
            return DomainInfo(host, "", "", suffix, sub)
        return DomainInfo(host, f"{label}.{suffix}" if suffix else label, label, suffix, sub,
                          bool(parts.is_private))


class DomainIndex(Generic[T]):
    """Maps domains to values; a host matches a domain when it equals it or is a subdomain.

    >>> index = DomainIndex({"zoom.us": "zoom"})
    >>> [index.lookup(h) for h in ("us02web.zoom.us", "zoom.us.evil.example", "zoom.us")]
    ['zoom', None, 'zoom']
    """

    def __init__(self, entries: Mapping[str, T]) -> None:
        self._map = {d.lower().rstrip("."): v for d, v in entries.items()}

    def lookup(self, host: str) -> T | None:
        if not self._map:
            return None
        current = host.rstrip(".")
        while True:
            found = self._map.get(current)
            if found is not None:
                return found
            dot = current.find(".")
            if dot < 0:
                return None
            current = current[dot + 1 :]

    def __len__(self) -> int:
        return len(self._map)

    def domains(self) -> list[str]:
        return sorted(self._map)
