"""Borrowing the sentiment model of another shop: its verdict becomes one more input of this shop's model.

A shop's learned sentiment model learns what a complaint looks like from its own 1-2 star reviews, and
most shops have few of them (the Amazon 5-core files: 15 to 190 negatives). Another shop that uses the same
encoder has learned the same thing from its own. With `text.sentiment_prior` naming that shop's workspace
(or its `models/sentiment` folder), the borrowed model scores every review here and its verdict is one more
input of both of this shop's models, which still train on this shop's rated reviews only and so learn how
far to trust it. The borrowed model is copied into this workspace's model folder, so later changes over
there change nothing here until this model is retrained.

Measured on the Amazon review files (bench/eval_sentiment.py, docs/EVALUATION.md): each file's model
borrowing one trained on the four other files scores a mean polarity F1 of 0.880 against 0.858 without,
and no file loses. Only the borrowed model's weights travel (linear models over encoder
vectors and hashed words): no review text, no ratings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from recengine.errors import ConfigError, ModelError
from recengine.text import tables
from recengine.text.sentiment_model import SentimentModel
from recengine.text.sentiment_model_files import load_sentiment_model

if TYPE_CHECKING:
    from recengine.workspace import Workspace


MODEL_FOLDER = Path("models", "sentiment")  # where a workspace keeps its sentiment model (tables.sentiment_model_dir)


def setting_folder(root: Path, setting: str) -> Path:
    """The folder a `text.sentiment_prior` value names; a relative one is read from `root`, the folder of the
    workspace whose setting it is."""
    return root / Path(setting).expanduser()


def prior_model_folder(path: str | Path) -> Path:
    """The sentiment model folder that `path` names: a workspace (its models/sentiment) or the folder itself.

    Raises:
        ConfigError: neither holds a saved sentiment model.
    """
    folder = Path(path).expanduser()
    for candidate in (folder / MODEL_FOLDER, folder):
        if (candidate / "model.json").is_file():
            return candidate.resolve()
    raise ConfigError(
        f"No sentiment model in {folder}.",
        hint="Name a workspace whose reviews were analysed with the learned model (recengine analyze), "
        "or its models/sentiment folder.",
    )


def nearby_workspaces_with_models(workspace: Workspace, limit: int = 20) -> list[Path]:
    """Workspaces in the same parent folder as `workspace` that hold a sentiment model: the shops a
    merchandiser running several of them would borrow from (sorted, at most `limit`)."""
    parent = workspace.root.resolve().parent
    own = workspace.root.resolve()
    try:
        folders = sorted(path for path in parent.iterdir() if path.is_dir() and path.resolve() != own)
    except OSError:
        return []
    found = [path for path in folders if (path / MODEL_FOLDER / "model.json").is_file()]
    return found[:limit]


def load_prior(root: Path, setting: str, encoder_fingerprint: str) -> tuple[SentimentModel | None, str]:
    """The borrowed model that `text.sentiment_prior` names, and a note when it cannot be used.

    A relative `setting` is read from `root` (`setting_folder`).

    Returns (None, "") when the setting is empty. A model that is missing, damaged, or made for another
    encoder is not used: (None, why), so analysis goes on with this shop's own reviews only and says so.
    """
    if not setting:
        return None, ""
    try:
        prior = load_sentiment_model(prior_model_folder(setting_folder(root, setting)))
    except (ConfigError, ModelError) as error:
        return None, f"The borrowed sentiment model ({setting}) was not used: {error}"
    if prior is None:
        return None, f"The borrowed sentiment model ({setting}) was not used: written by an older version."
    if prior.encoder_fingerprint != encoder_fingerprint:
        return None, (
            f"The borrowed sentiment model ({setting}) was not used: it reads vectors of "
            f"{prior.encoder_fingerprint}, this workspace's encoder is {encoder_fingerprint}."
        )
    return prior, ""


def checked_prior_folder(workspace: Workspace, path: str | Path) -> Path:
    """The sentiment model folder `path` names, checked to be usable by this workspace.

    Raises:
        ConfigError: `path` holds no sentiment model, it is this workspace's own, or it was trained on
            another encoder than this workspace's.
    """
    folder = prior_model_folder(path)  # as typed: a relative path is read from the current folder
    if folder == tables.sentiment_model_dir(workspace).resolve():
        raise ConfigError("That is this workspace's own sentiment model.", hint="Name another shop's workspace.")
    from recengine.embed.models import resolve_model

    encoder = resolve_model(workspace.settings.embed.model).fingerprint
    prior, note = load_prior(workspace.root, str(folder), encoder)
    if prior is None:
        raise ConfigError(note, hint="Borrow from a workspace that uses the same encoder (embed.model).")
    return folder


def save_sentiment_prior(workspace: Workspace, path: str | Path | None) -> Path:
    """Save `text.sentiment_prior` in the workspace's config.toml (None or "" borrows nothing); the next
    analysis retrains the sentiment model. Returns the config file's path.

    A shop next to this one (same parent folder) is saved as a path relative to this workspace, so a
    folder of shops moved or copied together keeps borrowing; any other as an absolute path.

    Raises:
        ConfigError: as `checked_prior_folder`; nothing is saved then.
    """
    if not path:
        return workspace.save_settings("text", {"sentiment_prior": ""})
    folder = checked_prior_folder(workspace, path)
    root = workspace.root.resolve()
    saved = os.path.relpath(folder, root) if root.parent in folder.parents else str(folder)
    return workspace.save_settings("text", {"sentiment_prior": saved})
