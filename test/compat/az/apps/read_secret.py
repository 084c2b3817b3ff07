"""An unmodified app: DefaultAzureCredential + SecretClient, as the Azure docs write it.

usage: python3 read_secret.py <vault-url> <secret-name>
Prints one JSON line: {"ok": true, "value": ...} or {"ok": false, "status": ..., "code": ..., "message": ...}.
Run as a VM (keyless run --isolated): no AZURE_* variables, so DefaultAzureCredential ends at IMDS.
"""
import json
import sys

from azure.core.exceptions import HttpResponseError
from azure.identity import DefaultAzureCredential
from azure.keyvault.secrets import SecretClient

vault_url, name = sys.argv[1], sys.argv[2]
client = SecretClient(vault_url=vault_url, credential=DefaultAzureCredential())
try:
    print(json.dumps({"ok": True, "value": client.get_secret(name).value}))
except HttpResponseError as e:
    code = getattr(e.error, "code", None) if e.error else None
    print(json.dumps({"ok": False, "status": e.status_code, "code": code, "message": str(e.message)}))
