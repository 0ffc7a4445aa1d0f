"""`flask minutes ...` commands: accounts, demo data, the periodic tick."""
import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import gettext
from sqlalchemy import func, select

from minutes.api.service import create_token
from minutes.archive.service import reindex
from minutes.backup import BackupError, backup, restore
from minutes.core.errors import DomainError, describe_error
from minutes.demo import DemoRefused, load_demo
from minutes.extensions import db, write_intent
from minutes.identity.sync import report_lines, sync_from, tick_sync
from minutes.jobs import tick
from minutes.notify.delivery import deliver_pending
from minutes.people.models import User
from minutes.people.service import create_user, user_by_username



def _writes():
    """Every maintenance command writes: SQLite transactions take the write lock up front (until it ends)."""
    token = write_intent.set(True)
    click.get_current_context().call_on_close(lambda: write_intent.reset(token))


minutes_cli = AppGroup("minutes", help="会议纪要系统管理命令", callback=_writes)


@minutes_cli.command("create-user")
@click.argument("username")
@click.option("--name", required=True, help="姓名")
@click.option("--department", required=True, help="部门（不存在则创建）")
@click.option("--password", required=True, help="密码（至少8位）")
@click.option("--email", default=None, help="邮箱")
@click.option("--title", default=None, help="职位")
@click.option("--admin", is_flag=True, help="设为系统管理员")
def create_user_command(username, name, department, password, email, title, admin):
    """Create an account (and its department if missing)."""
    try:
        user = create_user(username, name, department, password, email=email, is_admin=admin, title=title)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    if admin:
        click.echo(gettext("已创建用户 %(username)s（%(name)s，%(department)s，管理员）", username=user.username,
                           name=user.name, department=user.department.name))
    else:
        click.echo(gettext("已创建用户 %(username)s（%(name)s，%(department)s）", username=user.username,
                           name=user.name, department=user.department.name))


@minutes_cli.command("demo")
@click.option("--password", default="minutes2026", show_default=True, help="演示账号的密码")
@click.option("--if-empty", is_flag=True, help="数据库已有账号时什么也不做（供 make run 使用）")
def demo_command(password, if_empty):
    """Fill an empty database with realistic demo departments, people and meetings."""
    if if_empty and db.session.scalar(select(func.count()).select_from(User)):
        click.echo(gettext("数据库已有数据，跳过演示数据。"))
        return
    try:
        accounts = load_demo(password)
    except DemoRefused as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    if current_app.config.get("MAIL_DEV_MAILBOX"):  # make run: the demo's mail is in the local mailbox at once
        deliver_pending()
    click.echo(gettext("演示数据已创建。演示账号（密码均为 %(password)s）：", password=password))
    for username, label in accounts:
        click.echo(f"  {username:<12} {label}")


@minutes_cli.command("tick")
def tick_command():
    """Queue due reminders and escalations, then deliver notifications (every minute from cron or a timer).

    Idempotent and safe to run concurrently on several hosts: a reminder is logged under a unique key
    before it is queued, and each message is claimed by one deliverer before it is sent.
    """
    result = tick()
    reminders = result["reminders"]
    if reminders.skipped:
        click.echo(gettext("提醒：跳过（%(reason)s）", reason=reminders.skipped))
    else:
        click.echo(gettext("提醒：处理 %(stages)s 项，新排队消息 %(messages)s 条", stages=reminders.stages,
                           messages=reminders.messages))
    if result["minutes_overdue"]:
        click.echo(gettext("纪要逾期提醒：新排队消息 %(count)s 条", count=result["minutes_overdue"]))
    click.echo(gettext("已发送 %(sent)s 条，失败 %(failed)s 条，顺延 %(deferred)s 条", sent=result["sent"],
                       failed=result["failed"], deferred=result["deferred"]))
    directory_error = _tick_directory_sync()
    if result["error"]:
        raise click.ClickException(gettext("计算提醒时出错（已投递的消息不受影响，下次运行会重新计算）：%(error)s",
                                           error=result["error"]))
    if directory_error:
        raise click.ClickException(gettext("目录同步出错（其余工作不受影响，下次运行会重试）：%(error)s",
                                           error=directory_error))


def _tick_directory_sync() -> str | None:
    """The tick's org-chart sync (DIRECTORY_SYNC, every DIRECTORY_SYNC_MINUTES): a failure is reported, never
    holds up the rest."""
    try:
        reports = tick_sync()
    except Exception as exc:  # the directory down, a misconfiguration: reported; the next tick tries again
        db.session.rollback()
        message = describe_error(exc)
        return message
    for report in reports:
        click.echo(report.summary())
    return None


@minutes_cli.command("sync-directory")
@click.option("--source", default=None, help="目录来源：ldap、feishu、dingtalk、wecom（默认：DIRECTORY_SYNC 中的每一个，未设置时为 ldap）")
@click.option("--verbose", "-v", is_flag=True, help="列出每一项变更")
def sync_directory_command(source, verbose):
    """Synchronize departments and people from the company directory, and print what changed."""
    configured = [p.strip() for p in str(current_app.config.get("DIRECTORY_SYNC") or "").split(",") if p.strip()]
    for provider in [source] if source else configured or ["ldap"]:
        try:
            report = sync_from(provider)
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from None
        click.echo(report.summary())
        if verbose:
            for line in report_lines(report):
                click.echo("  " + line)
        for line in report.skipped:
            click.echo("  " + gettext("未处理：%(line)s", line=line))


@minutes_cli.command("token")
@click.argument("username")
@click.option("--name", default="命令行创建", show_default=True, help="令牌用途")
@click.option("--read-only", is_flag=True, help="只读令牌：只能查询（GET），不能修改")
def token_command(username, name, read_only):
    """Issue an API token for a user and print it once."""
    try:
        token, plaintext = create_token(user_by_username(username), name, read_only=read_only)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from None
    db.session.commit()
    if read_only:
        click.echo(gettext("已为 %(username)s 创建只读令牌（只显示这一次，请妥善保存）：", username=username))
    else:
        click.echo(gettext("已为 %(username)s 创建令牌（只显示这一次，请妥善保存）：", username=username))
    click.echo(plaintext)


@minutes_cli.command("reindex")
def reindex_command():
    """Rebuild the archive's search index from meetings, the room and the final minutes."""
    counts = reindex()
    db.session.commit()
    click.echo(gettext("检索索引已重建：%(counts)s", counts="，".join(f"{k} {v}" for k, v in counts.items())))


@minutes_cli.command("backup")
@click.argument("path")
def backup_command(path):
    """Back up the database to PATH while the app keeps running."""
    try:
        written = backup(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(gettext("已备份到 %(path)s", path=written))


@minutes_cli.command("restore")
@click.argument("path")
@click.option("--yes", is_flag=True, help="确认用备份覆盖当前数据库")
def restore_command(path, yes):
    """Replace the database with the backup at PATH (stop the app first)."""
    if not yes:
        raise click.ClickException(gettext("恢复会覆盖当前数据库的全部内容；确认请加 --yes"))
    try:
        restore(path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(gettext("已从 %(path)s 恢复", path=path))


def register_cli(app: Flask) -> None:
    app.cli.add_command(minutes_cli)
