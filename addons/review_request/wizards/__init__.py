from . import review_mail_preview
