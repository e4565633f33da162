"""A realistic session of python3-webdavclient (webdav3) against the keepdav given as argv[1]:
argv[2] is a local tree to push, argv[3] an empty directory to download into. Prints one JSON
object with what the client saw; raises (exit 1) on any client error."""
import json
import os
import sys

from webdav3.client import Client

url, local, down = sys.argv[1], sys.argv[2], sys.argv[3]
client = Client({'webdav_hostname': url, 'webdav_timeout': 30})
seen = {}

client.mkdir('py/')
client.mkdir("py/dossier d'été/")
# upload a whole tree (MKCOL + PUT per file), names as they are on disk
client.upload_sync(remote_path='py/tree/', local_path=local)
seen['top'] = sorted(client.list('py/tree/'))
seen['withSpace'] = sorted(client.list('py/tree/with space/'))
seen['info'] = client.info("py/tree/it's here.txt")
seen['isDir'] = client.is_dir("py/tree/with space/l'apostrophe d'été/")
seen['check'] = [client.check('py/tree/été/naïve – 日本語.txt'), client.check('py/tree/nope.txt')]

# rename, move into another folder, copy, overwrite, properties
client.move("py/tree/it's here.txt", "py/tree/it's renamed.txt")
client.move('py/tree/with space/a&b+c.txt', "py/dossier d'été/a&b+c.txt")
client.copy('py/tree/été/naïve – 日本語.txt', 'py/tree/Ünïcødé/copie – 日本語.txt')
client.upload_sync(remote_path='py/tree/plain/empty.bin', local_path=os.path.join(local, 'plain', 'bigger.bin'))
client.set_property('py/tree/plain/bigger.bin', {'namespace': 'urn:example:notes', 'name': 'note', 'value': 'relu'})
seen['note'] = client.get_property('py/tree/plain/bigger.bin', {'namespace': 'urn:example:notes', 'name': 'note'})

# delete a file and a folder
client.clean('py/tree/with space/semi;colon=and,comma.txt')
client.clean("py/tree/with space/l'apostrophe d'été/")
seen['afterDelete'] = sorted(client.list('py/tree/with space/'))

client.download_sync(remote_path='py/tree/', local_path=down)
print(json.dumps(seen, ensure_ascii=False))
