"""Forms read and submitted as a browser does: successful controls, the clicked button, selects,
the form a page's script posts, and AD FS 2.0's pages as the 2016 deployment served them."""

from cdms_api.html_forms import parse_page

WEBFORMS = (
    '<form method="post" action="FormsSignIn.aspx?wa=wsignin1.0&amp;wctx=a%26b" id="MainForm">'
    '<input type="hidden" name="__VIEWSTATE" value="vs" />'
    '<input type="hidden" name="__EVENTVALIDATION" value="ev" />'
    '<input type="hidden" name="__db" value="15" />'
    '<input name="ctl00$ContentPlaceHolder1$UsernameTextBox" type="text" />'
    '<input name="ctl00$ContentPlaceHolder1$PasswordTextBox" type="password" />'
    '<span id="ContentPlaceHolder1_ErrorTextLabel">The user name or password is incorrect.</span>'
    '<input type="submit" name="ctl00$ContentPlaceHolder1$SubmitButton" value="Sign In" />'
    "</form>"
)


def test_a_webforms_sign_in_page_is_posted_with_its_hidden_fields_and_the_clicked_button():
    page = parse_page(WEBFORMS)
    (form,) = page.forms
    assert form.action == "FormsSignIn.aspx?wa=wsignin1.0&wctx=a%26b" and form.method == "post"
    assert form.user_field.endswith("UsernameTextBox") and form.password_field.endswith("PasswordTextBox")
    (button,) = form.buttons()
    sent = form.submission(button, {form.user_field: "D\\u", form.password_field: "pw"})
    assert sent == [
        ("__VIEWSTATE", "vs"),
        ("__EVENTVALIDATION", "ev"),
        ("__db", "15"),
        ("ctl00$ContentPlaceHolder1$UsernameTextBox", "D\\u"),
        ("ctl00$ContentPlaceHolder1$PasswordTextBox", "pw"),
        ("ctl00$ContentPlaceHolder1$SubmitButton", "Sign In"),
    ]
    assert page.errors == ["The user name or password is incorrect."]


def test_only_successful_controls_are_sent():
    page = parse_page(
        '<form action="/x"><input name="a" value="1"><input name="off" value="2" disabled>'
        '<input type="checkbox" name="c1" checked><input type="checkbox" name="c2" value="y">'
        '<input type="radio" name="r" value="p"><input type="radio" name="r" value="q" checked>'
        '<select name="s"><option value="one">One<option value="two" selected>Two</select>'
        '<select name="first"><option>Alpha</option><option>Beta</option></select>'
        "<textarea name=t>some  text</textarea>"
        '<input type="submit" name="go" value="Go"><input type="submit" name="other" value="No">'
        '<input type="reset" name="clear"><input type="button" name="b" value="B">'
        "</form>"
    )
    (form,) = page.forms
    assert form.submission() == [
        ("a", "1"),
        ("c1", "on"),
        ("r", "q"),
        ("s", "two"),
        ("first", "Alpha"),
        ("t", "some text"),
    ]
    assert ("go", "Go") in form.submission(form.buttons()[0]) and ("other", "No") not in form.submission(
        form.buttons()[0]
    )


def test_controls_after_a_form_ends_belong_to_no_form_and_every_form_is_read():
    page = parse_page(
        '<form name="first" action="/a"><input name="x" value="1"></form><input name="stray" value="s">'
        '<form name="hiddenform" action="/b"><input type="hidden" name="wresult" value="t"></form>'
    )
    assert [f.fields for f in page.forms] == [{"x": "1"}, {"wresult": "t"}]


def test_the_form_the_page_script_submits_is_found():
    working = (
        '<form name="other" action="/o"></form><form method="POST" name="hiddenform" action="https://crm/">'
        '<input type="hidden" name="wa" value="wsignin1.0" /><noscript><input type="submit" value="Submit" />'
        "</noscript></form><script>window.setTimeout('document.forms[1].submit()', 0);</script>"
    )
    assert parse_page(working).scripted.name == "hiddenform"
    by_name = '<form name="f" action="/f"></form><script>document.forms["f"].submit();</script>'
    assert parse_page(by_name).scripted.action == "/f"
    assert parse_page('<form action="/x"></form>').scripted is None


def test_a_page_without_error_labels_is_described_by_its_title():
    assert parse_page("<html><head><title>Sign In</title></head></html>").describe() == "a page titled 'Sign In'"
