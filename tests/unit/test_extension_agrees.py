"""The extension's instant local decisions (from the policy snapshot the service hands it) never
allow or approve a link the service flags: the same look-alike corpora, decided by the
extension's own `localDecision` in Node and by the service's classifier."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from meetguard.classify import Classifier
from meetguard.policy import Policy
from meetguard.web.service import policy_document

from .test_lookalikes import HAND_MADE, MEETING_PATHS, _corpus

ROOT = Path(__file__).resolve().parents[2]
POLICY_JS = (ROOT / "extension" / "lib" / "policy.js").as_uri()
DECIDE = f"""
import {{ validatePolicy, localDecision }} from {json.dumps(POLICY_JS)};
let input = '';
for await (const chunk of process.stdin) input += chunk;
const {{ policy, urls }} = JSON.parse(input);
const snapshot = validatePolicy(policy);
const out = urls.map((u) => {{
  const v = localDecision(snapshot, u);
  return v && {{ action: v.action, class: v.class, platform: v.platform }};
}});
process.stdout.write(JSON.stringify(out));
"""


def _local_decisions(policy: Policy, urls: list[str]) -> list[dict | None]:
    node = shutil.which("node")
    assert node, "node is needed (scripts/test installs nodejs)"
    document = policy_document(policy, SimpleNamespace(webmail_hosts=[], fail_mode="open"))
    done = subprocess.run([node, "--input-type=module", "-e", DECIDE], check=True,
                          input=json.dumps({"policy": document, "urls": urls}),
                          capture_output=True, text=True, timeout=120)
    return json.loads(done.stdout)


@pytest.mark.parametrize("generator", ["dnstwist", "ail"])
def test_local_decisions_never_pass_what_the_service_flags(
    classifier: Classifier, policy: Policy, generator: str
) -> None:
    urls = []
    for variant, _, imitated in _corpus(generator):
        owner = policy.owned.lookup(imitated)
        urls.append(f"https://{variant}/")
        urls.append(f"https://{variant}{MEETING_PATHS.get(owner.id if owner else '', '/')}")
    urls += [link for link, _ in HAND_MADE]
    verdicts = {u: classifier.link(u) for u in urls}
    flagged = [u for u, v in verdicts.items() if v.action.value != "allow"]
    assert len(flagged) > 0.9 * len(verdicts)
    local = _local_decisions(policy, flagged)
    passed = [(u, v) for u, v in zip(flagged, local, strict=True)
              if v is not None and (v["action"] == "allow" or v["class"] == "approved")]
    assert passed == []
    # What the snapshot decides, it decides as the service does: a look-alike is never given
    # the platform it imitates (hosts a platform owns, j.oin.skype.com, are that platform's).
    differ = [u for u, v in zip(flagged, local, strict=True)
              if v and v["platform"] != verdicts[u].platform]
    assert differ == []
