"""An unmodified workload asking azure-identity for a token the way application code does.

usage: get_token.py <mi|dac> <scope> [client_id|object_id|principal_id|msi_res_id|mi_res_id=<value>]
Prints one JSON line: {"ok": true, "token", "expires_on"} or {"ok": false, "type", "message"}.
"""
import json
import sys

from azure.identity import DefaultAzureCredential, ManagedIdentityCredential


def main() -> None:
    mode, scope = sys.argv[1], sys.argv[2]
    kwargs = {}
    if len(sys.argv) > 3:
        name, value = sys.argv[3].split("=", 1)
        # client_id is a keyword everywhere; the other selectors go through identity_config, verbatim.
        if name == "client_id":
            kwargs["client_id"] = value
        else:
            kwargs["identity_config"] = {name: value}
    try:
        if mode == "dac":
            cred = DefaultAzureCredential(managed_identity_client_id=kwargs.get("client_id"))
        else:
            cred = ManagedIdentityCredential(**kwargs)
        token = cred.get_token(scope)
        print(json.dumps({"ok": True, "token": token.token, "expires_on": token.expires_on}))
    except Exception as e:  # the test reads the failure from stdout
        print(json.dumps({"ok": False, "type": type(e).__name__, "message": str(e)}))


main()
