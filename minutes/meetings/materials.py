"""Agenda materials: uploaded files (type and size checked, stored under a random name) and links."""
import mimetypes
import os
import re
import secrets
import unicodedata

from flask import current_app
from flask_babel import gettext

from minutes.core.errors import NotFound, ValidationFailed
from minutes.dbtypes import get_by_id
from minutes.extensions import db
from minutes.meetings.models import AgendaItem, Material
from minutes.meetings.files import remove_stored_file, upload_folder
from minutes.meetings.service import URL_RE, can_view, require_edit, require_planning
from minutes.people.models import User

ALLOWED_EXTENSIONS = {
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".csv", ".txt", ".md",
    ".png", ".jpg", ".jpeg", ".gif", ".vsdx", ".zip", ".wps", ".et", ".dps",
}


def clean_filename(name: str) -> str:
    """Keep a readable (Chinese-friendly) file name without paths, controls or markup characters."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r'[<>:"|?*\'`]', "_", name).strip(" .")
    return name[:200] or gettext("附件")


def add_material_file(actor: User, item: AgendaItem, filename: str, stream, content_type: str | None,
                      title: str = "") -> Material:
    """Attach an uploaded file under its title (or its file name), refusing unknown types and files over the limit."""
    require_edit(actor, item.meeting)
    require_planning(item.meeting)
    name = clean_filename(filename)
    ext = os.path.splitext(name)[1].lower()
    if not filename:
        raise ValidationFailed(gettext("请选择要上传的文件"), field="file")
    if ext not in ALLOWED_EXTENSIONS:
        allowed = "、".join(sorted(e.lstrip(".") for e in ALLOWED_EXTENSIONS))
        raise ValidationFailed(gettext("不支持的文件类型“%(ext)s”。允许：%(allowed)s",
                                       ext=ext or gettext("无扩展名"), allowed=allowed), field="file")
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    stored = secrets.token_hex(16) + ext
    path = os.path.join(upload_folder(), stored)
    size = 0
    with open(path, "wb") as out:
        while chunk := stream.read(64 * 1024):
            size += len(chunk)
            if size > limit:
                out.close()
                os.remove(path)
                raise ValidationFailed(gettext("文件超过大小上限（%(limit)s MB）", limit=limit // (1024 * 1024)), field="file")
            out.write(chunk)
    if size == 0:
        os.remove(path)
        raise ValidationFailed(gettext("文件是空的"), field="file")
    material = Material(agenda_item=item, name=(title or "").strip()[:200] or name, stored_name=stored, size=size,
                        uploaded_by=actor,
                        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
    db.session.add(material)
    db.session.flush()
    return material


def add_material_link(actor: User, item: AgendaItem, url: str, title: str = "") -> Material:
    """Attach a link to material kept elsewhere (intranet drive, wiki)."""
    require_edit(actor, item.meeting)
    require_planning(item.meeting)
    url = (url or "").strip()
    if not URL_RE.match(url):
        raise ValidationFailed(gettext("链接须以 http:// 或 https:// 开头"), field="url")
    material = Material(agenda_item=item, name=(title or "").strip()[:200] or url[:200], url=url[:1000],
                        uploaded_by=actor)
    db.session.add(material)
    db.session.flush()
    return material


def get_material(user, material_id) -> Material:
    """Load a material of a meeting the user may see."""
    material = get_by_id(Material, material_id)
    if material is None or not can_view(user, material.agenda_item.meeting):
        raise NotFound(gettext("资料不存在或您无权查看"))
    return material


def delete_material(actor: User, material: Material) -> AgendaItem:
    """Remove a material and its stored file."""
    item = material.agenda_item
    require_edit(actor, item.meeting)
    require_planning(item.meeting)
    remove_stored_file(material)
    item.materials.remove(material)
    db.session.flush()
    return item
