"""Labelled image sets in one on-disk format: a folder of images, `val.txt` and `synset_words.txt`.

`val.txt` has one image per line: ``<file> <class> [<class> ...]``. The first class is the
image's label; further classes are other labels accepted as correct for that image (a tabby
cat photo may rightly be called "tiger cat"). ImageNet's own val.txt has one class per line, so
it reads unchanged. Classes are ImageNet-1k indices 0..999, in `synset_words.txt` order.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import RequestError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png", ".bmp", ".ppm", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    labels: tuple[int, ...]  # labels[0] is the image's label; all are accepted as correct

    @property
    def label(self) -> int:
        return self.labels[0]


@dataclass(frozen=True)
class Synset:
    wnid: str
    names: str

    @property
    def short_name(self) -> str:
        return self.names.split(",")[0].strip()


@dataclass(frozen=True)
class Dataset:
    name: str
    root: Path
    images: tuple[LabelledImage, ...]
    synsets: tuple[Synset, ...]

    def select(self, max_images: int) -> Dataset:
        """The first ``max_images`` images (all of them if ``max_images`` is 0)."""
        if max_images <= 0 or max_images >= len(self.images):
            return self
        return Dataset(self.name, self.root, self.images[:max_images], self.synsets)

    def class_name(self, index: int) -> str:
        return self.synsets[index].short_name if 0 <= index < len(self.synsets) else f"class {index}"


def default_synsets_path() -> Path:
    return Path(str(resources.files("ckrequest") / "data" / "synset_words.txt"))


def _read_lines(path: Path, what: str, fix: str) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or err
        raise RequestError(f"{what} {path}", f"unreadable ({reason})", fix) from None


def load_synsets(path: Path) -> tuple[Synset, ...]:
    lines = _read_lines(path, "synset list", "point the data set at a synset_words.txt with 1000 lines")
    synsets = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        wnid, _, names = line.strip().partition(" ")
        if not (wnid.startswith("n") and wnid[1:].isdigit()):
            raise RequestError(f"synset list {path}, line {number}", f"{wnid!r} is not a WordNet id",
                               "each line must read '<wnid> <names>', e.g. 'n01440764 tench'")
        synsets.append(Synset(wnid, names.strip()))
    if len(synsets) != 1000:
        raise RequestError(f"synset list {path}", f"has {len(synsets)} classes, not 1000",
                           "use the ILSVRC-2012 synset_words.txt")
    return tuple(synsets)


def parse_val_line(line: str, where: str, num_classes: int) -> tuple[str, tuple[int, ...]] | None:
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    fields = text.split()
    if len(fields) < 2:
        raise RequestError(where, f"{text!r} has no class", "each line must read '<file> <class> [<class> ...]'")
    try:
        labels = tuple(int(field) for field in fields[1:])
    except ValueError:
        raise RequestError(where, f"classes {fields[1:]} are not integers",
                           "classes are ImageNet indices 0..999") from None
    bad = [label for label in labels if not 0 <= label < num_classes]
    if bad:
        raise RequestError(where, f"classes {bad} are outside 0..{num_classes - 1}",
                           "classes are ImageNet indices 0..999")
    return fields[0], labels


def load_dataset(root: str | Path, val_txt: str | Path | None = None, synsets: str | Path | None = None,
                 name: str = "") -> Dataset:
    """Read and check a data set folder; every listed image must exist."""
    root = Path(root)
    if not root.is_dir():
        raise RequestError(f"data set folder not found: {root}", "it does not exist or is not a folder",
                           "point the data set at the folder that holds the images: "
                           "ck detect soft:dataset.imagenet.val --full_path=<folder>/val.txt")
    val_path = Path(val_txt) if val_txt else root / "val.txt"
    synset_list = load_synsets(Path(synsets) if synsets else default_synsets_path())
    lines = _read_lines(val_path, "ground truth", "the data set needs a val.txt with '<file> <class>' lines")
    images = []
    for number, line in enumerate(lines, 1):
        parsed = parse_val_line(line, f"{val_path}, line {number}", len(synset_list))
        if parsed is None:
            continue
        file_name, labels = parsed
        path = (root / file_name)
        if not path.is_file():
            raise RequestError(f"image not found: {path}", f"{val_path} line {number} lists it",
                               "restore the file or remove its line from val.txt")
        images.append(LabelledImage(path, labels))
    if not images:
        raise RequestError(f"ground truth {val_path}", "lists no images", "add '<file> <class>' lines")
    return Dataset(name or root.name, root, tuple(images), synset_list)
