"""The other channels, against real receivers on 127.0.0.1: the 企业微信 and 钉钉 group robots (their markdown
messages; 钉钉's signed URL) and email over SMTP with STARTTLS and AUTH, in Chinese, linking to the console."""

import base64
import hashlib
import hmac
import urllib.parse
from pathlib import Path

from opscenter.db import Database
from opscenter.settings import Settings
from tests.conftest import ApiFactory, make_settings
from tests.factories import World
from tests.operations.tickets import steps as tickets
from tests.opscenter.notifications.conftest import LAB, run_worker
from tests.opscenter.notifications.receivers import http_receiver, smtp_server

DINGTALK_SECRET = "SEC0123456789abcdef"


def test_group_robots_get_their_markdown_and_dingtalk_its_signed_url(
    world: World, lab: ApiFactory, db: Database, lab_settings: Settings
) -> None:
    instance = tickets.instance(lab, world)
    ok = {"errcode": 0, "errmsg": "ok"}
    with http_receiver(200, answer=ok) as wecom, http_receiver(200, answer=ok) as dingtalk:
        chosen = lab.as_(world.operator).put(
            "/api/v1/notification-preferences/organization",
            {
                "channels": ["wecom", "dingtalk"],
                "wecom_url": f"{wecom.url}?key=robot-key",
                "dingtalk_url": f"{dingtalk.url}?access_token=robot-token",
                "dingtalk_secret": DINGTALK_SECRET,
            },
        )
        assert chosen.status_code == 200, chosen.text
        assert chosen.json()["dingtalk_signed"] is True
        assert "SEC" not in chosen.text  # the secret is never shown again
        ticket = tickets.open_ticket(lab, world.department, instance, priority="P1")
        run_worker(db, lab_settings)

    [robot] = wecom.received
    assert robot.path == "/hook?key=robot-key"
    message = robot.json()
    assert message["msgtype"] == "markdown"
    assert ticket["number"] in message["markdown"]["content"]
    assert "紧急工单已提交" in message["markdown"]["content"]

    [ding] = dingtalk.received
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(ding.path).query)
    assert query["access_token"] == ["robot-token"]
    timestamp = query["timestamp"][0]
    digest = hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()]
    assert ding.json()["msgtype"] == "markdown"
    assert ding.json()["markdown"]["title"].startswith("紧急工单已提交")


def test_email_goes_through_starttls_and_auth_in_chinese_with_a_link_to_the_console(
    world: World, lab: ApiFactory, db: Database, database_url: str, tmp_path: Path
) -> None:
    instance = tickets.instance(lab, world)
    mine = lab.as_(world.operator).put(
        "/api/v1/notification-preferences/me", {"channels": ["email"], "email": "zhao.min@ops.example.cn"}
    )
    assert mine.status_code == 200, mine.text
    ticket = tickets.open_ticket(lab, world.department, instance, priority="P2")
    with smtp_server(tmp_path, user="opscenter", password="s3cret-pass") as box:
        settings = make_settings(
            database_url,
            **LAB,
            smtp_host="127.0.0.1",
            smtp_port=box.port,
            smtp_username="opscenter",
            smtp_password="s3cret-pass",
            smtp_ca_bundle=str(box.certificate),
            smtp_from="运营中心 <noreply@ops.example.cn>",
            console_url="https://ops.example.cn/console",
        )
        run_worker(db, settings)
    [mail] = box.mails
    assert box.logins == ["opscenter"]
    assert box.tls_sessions == [True]
    assert mail["To"] == "zhao.min@ops.example.cn"
    assert mail["Subject"] == f"【运营中心】紧急工单已提交：{ticket['number']} {ticket['title']}"
    text = mail.get_content()
    assert "P2 高" in text
    assert f"https://ops.example.cn/console/tickets/{ticket['id']}" in text
