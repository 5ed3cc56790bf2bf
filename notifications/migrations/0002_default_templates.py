"""Default notification texts for every event, medium and language (az, en, ru).

Django template syntax; the variables are listed in notifications.services.notification_context
(number, due_on, status, subscriber_code, invoice_number, citizen_name, portal_url, org, ...)
plus each event's extras: inspection_scheduled (visit_on, window), info_requested (question),
deadline_extended (new_due_on, reason), closed_corrected (amount, new_balance), closed_refused
(reason). Dates are formatted explicitly with |date:"d.m.Y". The Azerbaijani registration text
is the user manual's, verbatim. Staff edit the texts in the admin; this migration only adds the
rows that are missing, and its reverse removes the rows of these events/media/languages.
"""

from django.db import migrations

GREETING = {
    "az": "{% if citizen_name %}Hörmətli {{ citizen_name }}!{% else %}Hörmətli abonent!{% endif %}",
    "en": "Dear {% if citizen_name %}{{ citizen_name }}{% else %}subscriber{% endif %},",
    "ru": "{% if citizen_name %}Здравствуйте, {{ citizen_name }}!{% else %}Здравствуйте!{% endif %}",
}

FOOTER = {
    "az": (
        "--\n{{ org.name }}\n{{ org.service_name }}\n"
        "Çağrı mərkəzi: {{ org.phone }} · {{ org.email }} · {{ org.website }}\n"
        "Bu məktub avtomatik göndərilib, ona cavab yazmayın."
    ),
    "en": (
        "--\n{{ org.name }}\n"
        "Call centre: {{ org.phone }} · {{ org.email }} · {{ org.website }}\n"
        "This message was sent automatically; please do not reply to it."
    ),
    "ru": (
        "--\n{{ org.name }}\n"
        "Колл-центр: {{ org.phone }} · {{ org.email }} · {{ org.website }}\n"
        "Это письмо отправлено автоматически, отвечать на него не нужно."
    ),
}

DATE = '|date:"d.m.Y"'

# (event, language): (e-mail subject, e-mail text between greeting and footer, SMS text)
TEXTS = {
    # --- registered ---------------------------------------------------------------------------
    ("registered", "az"): (
        "Müraciətiniz qeydiyyata alındı — № {{ number }}",
        "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
        "Müraciət nömrəniz: {{ number }}\n\n"
        "Abonent kodu: {{ subscriber_code }}\n"
        "Faktura nömrəsi: {{ invoice_number }}\n"
        "Cavabın verilməsinin son tarixi: {{ due_on" + DATE + " }}\n\n"
        "Müraciətin statusunu bu səhifədə izləyə bilərsiniz: {{ portal_url }}",
        "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
        "Müraciət nömrəniz: {{ number }}",
    ),
    ("registered", "en"): (
        "Your claim has been registered — No. {{ number }}",
        "Your claim has been registered. Thank you for using our service. Your claim number: {{ number }}\n\n"
        "Subscriber code: {{ subscriber_code }}\n"
        "Invoice number: {{ invoice_number }}\n"
        "Answer due by: {{ due_on" + DATE + " }}\n\n"
        "You can follow the status of your claim on this page: {{ portal_url }}",
        "Your claim has been registered. Thank you for using our service. Your claim number: {{ number }}",
    ),
    ("registered", "ru"): (
        "Ваше обращение зарегистрировано — № {{ number }}",
        "Ваше обращение зарегистрировано. Благодарим вас за то, что воспользовались нашей услугой. "
        "Номер вашего обращения: {{ number }}\n\n"
        "Код абонента: {{ subscriber_code }}\n"
        "Номер счёта: {{ invoice_number }}\n"
        "Срок ответа: до {{ due_on" + DATE + " }}\n\n"
        "Следить за статусом обращения можно на этой странице: {{ portal_url }}",
        "Ваше обращение зарегистрировано. Благодарим вас за то, что воспользовались нашей услугой. "
        "Номер вашего обращения: {{ number }}",
    ),
    # --- forwarded ----------------------------------------------------------------------------
    ("forwarded", "az"): (
        "Müraciətiniz icraya yönləndirildi — № {{ number }}",
        "Müraciətiniz (№ {{ number }}) icra üçün {{ org.name }}-nin məsul əməkdaşlarına yönləndirildi.\n\n"
        "{% if branch %}Məsul filial: {{ branch.name }}\n{% endif %}"
        "Cavabın verilməsinin son tarixi: {{ due_on" + DATE + " }}\n\n"
        "Müraciətin statusu: {{ portal_url }}",
        "Müraciətiniz (№ {{ number }}) icra üçün {{ org.name }}-nin məsul əməkdaşlarına yönləndirildi.",
    ),
    ("forwarded", "en"): (
        "Your claim has been forwarded for execution — No. {{ number }}",
        "Your claim (No. {{ number }}) has been forwarded for execution to the responsible employees of "
        "{{ org.name }}.\n\n"
        "{% if branch %}Responsible branch: {{ branch.name }}\n{% endif %}"
        "Answer due by: {{ due_on" + DATE + " }}\n\n"
        "Status of your claim: {{ portal_url }}",
        "Your claim No. {{ number }} has been forwarded for execution to the responsible employees.",
    ),
    ("forwarded", "ru"): (
        "Ваше обращение направлено на исполнение — № {{ number }}",
        "Ваше обращение (№ {{ number }}) направлено на исполнение ответственным сотрудникам {{ org.name }}.\n\n"
        "{% if branch %}Ответственный филиал: {{ branch.name }}\n{% endif %}"
        "Срок ответа: до {{ due_on" + DATE + " }}\n\n"
        "Статус обращения: {{ portal_url }}",
        "Ваше обращение (№ {{ number }}) направлено на исполнение ответственным сотрудникам {{ org.name }}.",
    ),
    # --- inspection_scheduled (visit_on, window) --------------------------------------------------
    ("inspection_scheduled", "az"): (
        "Sayğacın yerində yoxlanılması təyin edildi — № {{ number }}",
        "{{ number }} nömrəli müraciətiniz üzrə sayğacın göstəricisi yerində yoxlanılacaq.\n\n"
        "Yoxlama tarixi: {{ visit_on" + DATE + " }}\n"
        "Vaxt: {{ window }}\n"
        "{% if claim.address %}Ünvan: {{ claim.address }}\n{% endif %}\n"
        "Nəzarətçinin sayğaca baxa bilməsi üçün həmin vaxt ünvanda olmağınız xahiş olunur. "
        "Bu vaxt sizə uyğun deyilsə, çağrı mərkəzinə zəng edin: {{ org.phone }}.\n\n"
        "Müraciətin statusu: {{ portal_url }}",
        "{{ number }} nömrəli müraciət üzrə yerində yoxlama: {{ visit_on" + DATE + " }}, {{ window }}. "
        "Zəhmət olmasa, həmin vaxt ünvanda olun.",
    ),
    ("inspection_scheduled", "en"): (
        "On-site meter inspection scheduled — No. {{ number }}",
        "For your claim No. {{ number }}, the meter reading will be checked on site.\n\n"
        "Date: {{ visit_on" + DATE + " }}\n"
        "Time: {{ window }}\n"
        "{% if claim.address %}Address: {{ claim.address }}\n{% endif %}\n"
        "Please be at the address at that time so that the inspector can see the meter. "
        "If the time does not suit you, call us: {{ org.phone }}.\n\n"
        "Status of your claim: {{ portal_url }}",
        "Claim No. {{ number }}: an inspector will check your meter on {{ visit_on" + DATE + " }}, {{ window }}. "
        "Please be at the address.",
    ),
    ("inspection_scheduled", "ru"): (
        "Назначена проверка счётчика на месте — № {{ number }}",
        "По вашему обращению № {{ number }} показания счётчика будут проверены на месте.\n\n"
        "Дата: {{ visit_on" + DATE + " }}\n"
        "Время: {{ window }}\n"
        "{% if claim.address %}Адрес: {{ claim.address }}\n{% endif %}\n"
        "Просим вас быть по адресу в это время, чтобы контролёр мог осмотреть счётчик. "
        "Если время вам не подходит, позвоните нам: {{ org.phone }}.\n\n"
        "Статус обращения: {{ portal_url }}",
        "Обращение № {{ number }}: проверка счётчика на месте {{ visit_on" + DATE + " }}, {{ window }}. "
        "Просим быть по адресу.",
    ),
    # --- info_requested (question) --------------------------------------------------------------
    ("info_requested", "az"): (
        "Müraciətiniz üzrə əlavə məlumat tələb olunur — № {{ number }}",
        "{{ number }} nömrəli müraciətinizə baxılması üçün sizdən əlavə məlumat tələb olunur:\n\n"
        "{{ question }}\n\n"
        "Cavabınızı müraciətin səhifəsində göndərə bilərsiniz: {{ portal_url }}\n\n"
        "Cavabınız daxil olanadək müraciətə baxılma müddəti dayandırılır.",
        "{{ number }} nömrəli müraciətiniz üzrə sizdən əlavə məlumat tələb olunur. Ətraflı: {{ portal_url }}",
    ),
    ("info_requested", "en"): (
        "More information is needed for your claim — No. {{ number }}",
        "To examine your claim No. {{ number }}, we need more information from you:\n\n"
        "{{ question }}\n\n"
        "You can answer on the claim's page: {{ portal_url }}\n\n"
        "The time limit for our answer is paused until your reply arrives.",
        "Claim No. {{ number }}: we need more information from you. Details: {{ portal_url }}",
    ),
    ("info_requested", "ru"): (
        "По вашему обращению нужна дополнительная информация — № {{ number }}",
        "Для рассмотрения вашего обращения № {{ number }} нам нужна дополнительная информация:\n\n"
        "{{ question }}\n\n"
        "Ответить можно на странице обращения: {{ portal_url }}\n\n"
        "Срок рассмотрения приостановлен до получения вашего ответа.",
        "Обращение № {{ number }}: нужна дополнительная информация от вас. Подробнее: {{ portal_url }}",
    ),
    # --- deadline_extended (new_due_on, reason) ----------------------------------------------------
    ("deadline_extended", "az"): (
        "Müraciətinizə baxılma müddəti uzadıldı — № {{ number }}",
        "{{ number }} nömrəli müraciətinizə baxılma müddəti {{ new_due_on" + DATE + " }} tarixinədək uzadıldı.\n\n"
        "{% if reason %}Səbəb: {{ reason }}\n\n{% endif %}"
        "Müraciətin statusu: {{ portal_url }}",
        "{{ number }} nömrəli müraciətinizə baxılma müddəti {{ new_due_on" + DATE + " }} tarixinədək uzadıldı.",
    ),
    ("deadline_extended", "en"): (
        "The time limit for your claim has been extended — No. {{ number }}",
        "The time limit for examining your claim No. {{ number }} has been extended to "
        "{{ new_due_on" + DATE + " }}.\n\n"
        "{% if reason %}Reason: {{ reason }}\n\n{% endif %}"
        "Status of your claim: {{ portal_url }}",
        "Claim No. {{ number }}: the time limit for our answer has been extended to {{ new_due_on" + DATE + " }}.",
    ),
    ("deadline_extended", "ru"): (
        "Срок рассмотрения вашего обращения продлён — № {{ number }}",
        "Срок рассмотрения вашего обращения № {{ number }} продлён до {{ new_due_on" + DATE + " }}.\n\n"
        "{% if reason %}Причина: {{ reason }}\n\n{% endif %}"
        "Статус обращения: {{ portal_url }}",
        "Срок рассмотрения обращения № {{ number }} продлён до {{ new_due_on" + DATE + " }}.",
    ),
    # --- closed_corrected (amount, new_balance) ---------------------------------------------------
    ("closed_corrected", "az"): (
        "Müraciətinizə baxıldı, borcunuza düzəliş edildi — № {{ number }}",
        "{{ number }} nömrəli müraciətinizə baxıldı. Araşdırmanın nəticəsində borcunuza düzəliş edildi.\n\n"
        "Düzəlişin məbləği: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}Yeni borc qalığı: {{ new_balance|floatformat:2 }} AZN\n{% endif %}\n"
        "Ətraflı məlumat: {{ portal_url }}\n\n"
        "Qərarla razı deyilsinizsə, ondan qanunvericiliklə müəyyən edilmiş qaydada şikayət verə bilərsiniz.",
        "{{ number }} nömrəli müraciətiniz üzrə borcunuza {{ amount|floatformat:2 }} AZN düzəliş edildi."
        "{% if new_balance is not None %} Yeni borc qalığı: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
    ),
    ("closed_corrected", "en"): (
        "Your claim has been examined and your debt corrected — No. {{ number }}",
        "Your claim No. {{ number }} has been examined. As a result of the investigation, your debt has been "
        "corrected.\n\n"
        "Amount of the correction: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}New balance: {{ new_balance|floatformat:2 }} AZN\n{% endif %}\n"
        "Details: {{ portal_url }}\n\n"
        "If you disagree with the decision, you may appeal against it as provided by law.",
        "Claim No. {{ number }}: your debt has been corrected by {{ amount|floatformat:2 }} AZN."
        "{% if new_balance is not None %} New balance: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
    ),
    ("closed_corrected", "ru"): (
        "Ваше обращение рассмотрено, задолженность скорректирована — № {{ number }}",
        "Ваше обращение № {{ number }} рассмотрено. По результатам проверки ваша задолженность "
        "скорректирована.\n\n"
        "Сумма корректировки: {{ amount|floatformat:2 }} AZN\n"
        "{% if new_balance is not None %}Новый остаток задолженности: {{ new_balance|floatformat:2 }} AZN\n"
        "{% endif %}\n"
        "Подробнее: {{ portal_url }}\n\n"
        "Если вы не согласны с решением, вы можете обжаловать его в установленном законом порядке.",
        "Обращение № {{ number }}: задолженность скорректирована на {{ amount|floatformat:2 }} AZN."
        "{% if new_balance is not None %} Новый остаток: {{ new_balance|floatformat:2 }} AZN.{% endif %}",
    ),
    # --- closed_refused (reason) -------------------------------------------------------------------
    ("closed_refused", "az"): (
        "Müraciətinizə baxıldı — № {{ number }}",
        "{{ number }} nömrəli müraciətinizə baxıldı. Borcunuza düzəliş edilməsindən imtina edildi.\n\n"
        "Səbəb: {{ reason }}\n\n"
        "Ətraflı məlumat: {{ portal_url }}\n\n"
        "Qərarla razı deyilsinizsə, ondan qanunvericiliklə müəyyən edilmiş qaydada şikayət verə bilərsiniz.",
        "{{ number }} nömrəli müraciətiniz üzrə borca düzəliş edilməsindən imtina edildi. "
        "Səbəb: {{ reason|truncatechars:70 }}",
    ),
    ("closed_refused", "en"): (
        "Your claim has been examined — No. {{ number }}",
        "Your claim No. {{ number }} has been examined. The correction of your debt has been refused.\n\n"
        "Reason: {{ reason }}\n\n"
        "Details: {{ portal_url }}\n\n"
        "If you disagree with the decision, you may appeal against it as provided by law.",
        "Claim No. {{ number }}: the correction of your debt has been refused. Reason: {{ reason|truncatechars:90 }}",
    ),
    ("closed_refused", "ru"): (
        "Ваше обращение рассмотрено — № {{ number }}",
        "Ваше обращение № {{ number }} рассмотрено. В корректировке задолженности отказано.\n\n"
        "Причина: {{ reason }}\n\n"
        "Подробнее: {{ portal_url }}\n\n"
        "Если вы не согласны с решением, вы можете обжаловать его в установленном законом порядке.",
        "Обращение № {{ number }}: в корректировке задолженности отказано. Причина: {{ reason|truncatechars:70 }}",
    ),
    # --- withdrawn --------------------------------------------------------------------------------
    ("withdrawn", "az"): (
        "Müraciətiniz geri götürüldü — № {{ number }}",
        "{{ number }} nömrəli müraciətiniz sizin istəyinizlə geri götürüldü, ona baxılması dayandırıldı.\n\n"
        "Eyni faktura üzrə yeni müraciət göndərə bilərsiniz: {{ org.portal_url }}",
        "{{ number }} nömrəli müraciətiniz sizin istəyinizlə geri götürüldü.",
    ),
    ("withdrawn", "en"): (
        "Your claim has been withdrawn — No. {{ number }}",
        "Your claim No. {{ number }} has been withdrawn at your request and will not be examined further.\n\n"
        "You may file a new claim about the same invoice: {{ org.portal_url }}",
        "Your claim No. {{ number }} has been withdrawn at your request.",
    ),
    ("withdrawn", "ru"): (
        "Ваше обращение отозвано — № {{ number }}",
        "Ваше обращение № {{ number }} отозвано по вашей просьбе, его рассмотрение прекращено.\n\n"
        "Вы можете подать новое обращение по тому же счёту: {{ org.portal_url }}",
        "Ваше обращение № {{ number }} отозвано по вашей просьбе.",
    ),
}


def rows():
    for (event, language), (subject, email_text, sms_text) in TEXTS.items():
        email_body = f"{GREETING[language]}\n\n{email_text}\n\n{FOOTER[language]}\n"
        yield event, "email", language, subject, email_body
        yield event, "sms", language, "", sms_text


def load(apps, schema_editor):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for event, medium, language, subject, body in rows():
        NotificationTemplate.objects.get_or_create(
            event=event, medium=medium, language=language, defaults={"subject": subject, "body": body}
        )


def unload(apps, schema_editor):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for event, medium, language, _subject, _body in rows():
        NotificationTemplate.objects.filter(event=event, medium=medium, language=language).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]
