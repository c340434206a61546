"""Install the sample-photos data set: scikit-image's photos with our ImageNet labels."""

from __future__ import annotations

import shutil
from pathlib import Path

from .. import atomic
from ..errors import RequestError, missing_extra
from . import default_synsets_path, load_dataset, parse_val_line


def skimage_data_dir() -> Path:
    try:
        import skimage
    except ImportError as err:
        raise missing_extra(err) or err from None
    return Path(skimage.__file__).parent / "data"


def install_sample_photos(labels: Path, dest: Path, source: Path | None = None) -> Path:
    """Copy the photos ``labels`` lists from ``source`` into ``dest`` with val.txt and the synsets."""
    source = source or skimage_data_dir()
    lines = labels.read_text(encoding="utf-8").splitlines()
    with atomic.publishing(dest, last="val.txt") as staging:
        for number, line in enumerate(lines, 1):
            parsed = parse_val_line(line, f"{labels}, line {number}", 1000)
            if parsed is None:
                continue
            name = parsed[0]
            if not (source / name).is_file():
                raise RequestError(f"sample photo {source / name}", "is missing from scikit-image's data",
                                   "reinstall scikit-image: pip install --force-reinstall scikit-image")
            shutil.copy2(source / name, staging / name)
        shutil.copy2(default_synsets_path(), staging / "synset_words.txt")
        shutil.copy2(labels, staging / "val.txt")
        load_dataset(staging, name="sample-photos")  # the installed set must read back
    return dest / "val.txt"
