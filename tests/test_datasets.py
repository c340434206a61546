import pytest

from ckrequest.datasets import default_synsets_path, load_dataset, load_synsets
from ckrequest.datasets.sample_photos import install_sample_photos
from ckrequest.errors import RequestError

from builders import make_imagenet_dir
from conftest import REPO_ROOT, SKIMAGE_DATA


def test_synsets_are_the_1000_ilsvrc_classes():
    synsets = load_synsets(default_synsets_path())
    assert len(synsets) == 1000
    assert synsets[0].wnid == "n01440764" and synsets[0].short_name == "tench"
    assert synsets[281].short_name == "tabby" and synsets[967].short_name == "espresso"


def test_imagenet_format_folder_reads(tmp_path):
    val = make_imagenet_dir(tmp_path / "val", count=5)
    data = load_dataset(val.parent)
    assert len(data.images) == 5
    assert data.images[0].labels == (131,) and data.images[0].path.name == "ILSVRC2012_val_00000001.JPEG"
    assert len(data.select(2).images) == 2 and data.select(0) is data


def test_sample_photos_install_with_accepted_labels(tmp_path):
    val = install_sample_photos(REPO_ROOT / "dataset/sample-photos/val.txt", tmp_path / "photos", SKIMAGE_DATA)
    data = load_dataset(val.parent)
    by_name = {image.path.name: image for image in data.images}
    assert by_name["chelsea.png"].labels == (281, 282, 285)
    assert by_name["chelsea.png"].label == 281
    assert (val.parent / "chelsea.png").read_bytes() == (SKIMAGE_DATA / "chelsea.png").read_bytes()
    assert not [p for p in (tmp_path / "photos").iterdir() if p.name.startswith(".staging")]


def test_sample_photos_install_leaves_nothing_when_a_photo_is_missing(tmp_path):
    labels = tmp_path / "labels.txt"
    labels.write_text("chelsea.png 281\nno-such-photo.png 1\n")
    dest = tmp_path / "photos"
    with pytest.raises(RequestError, match="no-such-photo.png"):
        install_sample_photos(labels, dest, SKIMAGE_DATA)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("content, words", [
    ("ILSVRC2012_val_00000001.JPEG\n", "has no class"),
    ("ILSVRC2012_val_00000001.JPEG cat\n", "not integers"),
    ("ILSVRC2012_val_00000001.JPEG 1000\n", "outside 0..999"),
    ("missing.JPEG 3\n", "image not found"),
    ("# only a comment\n", "lists no images"),
])
def test_bad_ground_truth_names_the_line(tmp_path, content, words):
    make_imagenet_dir(tmp_path, count=1)
    (tmp_path / "val.txt").write_text(content)
    with pytest.raises(RequestError) as caught:
        load_dataset(tmp_path)
    assert words in str(caught.value) and "\n" not in str(caught.value)


def test_wrong_folder_and_bad_synsets(tmp_path):
    with pytest.raises(RequestError, match="data set folder not found"):
        load_dataset(tmp_path / "nowhere")
    make_imagenet_dir(tmp_path, count=1)
    (tmp_path / "synset_words.txt").write_text("n01440764 tench\n")
    with pytest.raises(RequestError, match="has 1 classes, not 1000"):
        load_dataset(tmp_path, synsets=tmp_path / "synset_words.txt")
