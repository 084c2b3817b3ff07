"""An unmodified workload reading a Key Vault secret: SecretClient + ManagedIdentityCredential, challenge
resource verification left on (Python compares the challenge resource's netloc, port included).

usage: keyvault_secret.py <vault url | name of the env var holding it> <secret name>
"""
import json
import os
import sys

from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient


def main() -> None:
    vault, name = sys.argv[1], sys.argv[2]
    url = vault if vault.startswith("https://") else os.environ.get(vault)
    try:
        if not url:
            raise ValueError("no vault URL in " + vault)
        secret = SecretClient(url, ManagedIdentityCredential()).get_secret(name)
        print(json.dumps({"ok": True, "value": secret.value, "id": secret.id}))
    except Exception as e:
        print(json.dumps({"ok": False, "type": type(e).__name__, "message": str(e)}))


main()
