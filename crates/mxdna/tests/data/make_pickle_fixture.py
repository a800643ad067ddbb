"""Makes pickle_unknown_class.bin: a file in PyTorch's zip layout (archive/data.pkl,
archive/version) whose pickle names a class that is not PyTorch's (`os.system`, reduced
with an argument), as a hostile checkpoint would. Plain Python: nothing is unpickled.
Usage: python3 make_pickle_fixture.py
"""
import pickle
import zipfile
from pathlib import Path

# GLOBAL 'os system', the argument, TUPLE1, REDUCE, STOP: unpickling would run it.
payload = b"\x80\x02cos\nsystem\nX\x0b\x00\x00\x00echo pwned!\x85R."
assert pickle.PROTO  # the opcodes are pickle's; the bytes are written by hand
out = Path(__file__).resolve().parent / "pickle_unknown_class.bin"
with zipfile.ZipFile(out, "w") as archive:
    archive.writestr("archive/data.pkl", payload)
    archive.writestr("archive/version", "3\n")
print(out)
