"""Error answers: a JSON error under /api/, a fragment for htmx, the error page otherwise."""
from flask import Flask, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError

from minutes.core.errors import DomainError
from minutes.extensions import db
from minutes.webutil import is_htmx


def init_app(app: Flask) -> None:
    """Register the error handlers on `app`."""

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error={"code": exc.code, "message": exc.message, "fields": exc.fields}), exc.status
        if is_htmx():
            return render_template("_error_fragment.html", message=exc.message), exc.status
        return render_template("error.html", message=exc.message, status=exc.status), exc.status

    @app.errorhandler(404)
    def not_found(exc):
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "not_found", "message": gettext("资源不存在"), "fields": {}}), 404
        return render_template("error.html", message=gettext("页面不存在或您无权查看"), status=404), 404

    @app.errorhandler(405)
    def method_not_allowed(exc):
        allow = {"Allow": ", ".join(sorted(exc.valid_methods or []))}  # RFC 9110: a 405 names what is allowed
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "method_not_allowed", "message": gettext("不支持该请求方法"),
                                  "fields": {}}), 405, allow
        return render_template("error.html", message=gettext("不支持该请求方法"), status=405), 405, allow

    @app.errorhandler(413)
    def too_large(exc):
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        message = gettext("上传内容超过大小上限（%(limit)s MB）", limit=limit)
        if is_htmx():
            return render_template("_error_fragment.html", message=message), 413
        return render_template("error.html", message=message, status=413), 413

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        message = gettext("页面已过期或请求来源不明，请刷新页面后重试")
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "csrf", "message": message, "fields": {}}), 400
        if is_htmx():
            return render_template("_error_fragment.html", message=message), 400
        return render_template("error.html", message=message, status=400), 400

    @app.errorhandler(500)
    def server_error(exc):
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify(error={"code": "server_error", "message": gettext("服务器内部错误，请稍后重试"), "fields": {}}), 500
        return render_template("error.html", message=gettext("服务器内部错误，请稍后重试"), status=500), 500
