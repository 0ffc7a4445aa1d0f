"""Where agenda materials' files are stored, and their removal once a deletion is committed."""
import os

from flask import current_app

from minutes import aftercommit
from minutes.extensions import db
from minutes.meetings.models import Material


def upload_folder() -> str:
    folder = current_app.config.get("UPLOAD_FOLDER") or os.path.join(current_app.instance_path, "uploads")
    os.makedirs(folder, exist_ok=True)
    return folder


def material_path(material: Material) -> str:
    return os.path.join(upload_folder(), material.stored_name)


def remove_stored_file(material: Material) -> None:
    """Forget the stored file once the row's removal is committed: a rolled-back request keeps both."""
    if material.stored_name:
        aftercommit.note(db.session, _FILES_TO_REMOVE, material_path(material))


_FILES_TO_REMOVE = "meetings_files_to_remove"


def init_app(app) -> None:
    """Remove the stored files of deleted materials once the deletion is committed (see minutes.aftercommit)."""
    aftercommit.after_commit(_FILES_TO_REMOVE, _remove_files_after_commit)


def _remove_files_after_commit(session, paths: list[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
