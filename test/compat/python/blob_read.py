"""An unmodified workload reading a blob with its managed identity: BlobServiceClient + ManagedIdentityCredential.

usage: blob_read.py <account blob url | name of the env var holding it> <container> <blob>
"""
import json
import os
import sys

from azure.identity import ManagedIdentityCredential
from azure.storage.blob import BlobServiceClient


def main() -> None:
    account, container, blob = sys.argv[1], sys.argv[2], sys.argv[3]
    url = account if account.startswith("https://") else os.environ.get(account)
    try:
        if not url:
            raise ValueError("no account URL in " + account)
        client = BlobServiceClient(url, credential=ManagedIdentityCredential())
        data = client.get_blob_client(container, blob).download_blob().readall()
        print(json.dumps({"ok": True, "text": data.decode("utf-8")}))
    except Exception as e:
        print(json.dumps({"ok": False, "type": type(e).__name__, "message": str(e)}))


main()
