"""The policy engine: policy files loaded, checked and compiled into per-client views.

Pure after loading: no I/O on the request path. ``PolicyStore`` holds the current engine and
swaps in a new one atomically when the files change.
"""

from hub.policy.compile import ClientView, PolicyEngine, Refusal, sensitive_category
from hub.policy.load import POLICY_DIR, PolicyError, load_policy_dir, load_policy_files
from hub.policy.model import ClientPolicy, PolicySet, PolicyTest, Purpose, RowCondition, TypeGrant

__all__ = ["POLICY_DIR", "ClientPolicy", "ClientView", "PolicyEngine", "PolicyError", "PolicySet",
           "PolicyTest", "Purpose", "Refusal", "RowCondition", "TypeGrant", "load_policy_dir",
           "load_policy_files", "sensitive_category"]
