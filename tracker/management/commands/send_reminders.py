import re
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from tracker.reminders import send_daily


class Command(BaseCommand):
    help = (
        "发送每日督办提醒：责任人提醒与督查员汇总，每人每天至多一封。"
        "Send the daily reminders (owner digests, supervisor summaries), at most once a day each."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="提醒日期 YYYY-MM-DD，默认今天（北京时间） / default: today, Asia/Shanghai",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="只统计，不发送、不记录 / send and write nothing"
        )

    def handle(self, *, date: str | None, dry_run, **options):
        # TIME_ZONE is Asia/Shanghai: localdate() is the office's calendar day, whatever the
        # server's clock zone.
        day = parse_date(date) if date else timezone.localdate()
        try:
            result = send_daily(day, dry_run=dry_run)
        except OSError as error:
            raise CommandError(
                f"无法连接邮件服务器 / cannot reach the mail server: {error}"
            ) from error
        if dry_run or options["verbosity"] > 1:
            for address in result.recipients:
                self.stdout.write(f"  {address}")
        self.stdout.write(summary_line(result))
        if result.failed:
            raise CommandError(
                f"{result.failed} 封邮件发送失败，下次运行将重发 / {result.failed} mail(s) failed"
            )


def parse_date(value):
    # fromisoformat alone would also take 20261122 or 2026-W47-7.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise CommandError(f"日期格式应为 YYYY-MM-DD / --date must be a YYYY-MM-DD date: {value!r}")


def summary_line(result):
    prefix = "【试运行，未发送、未记录】" if result.dry_run else ""
    return (
        f"{prefix}{result.day:%Y-%m-%d} 每日提醒：责任人提醒 {result.owner_mails} 封"
        f"（列明事项 {result.items} 项），督查员汇总 {result.supervisor_mails} 封；"
        f"今日已发过跳过 {result.already_sent} 人，无邮箱未发 {result.without_email} 人，"
        f"发送失败 {result.failed} 封；站内通知 {result.notices} 条。"
    )
