"""The pages in Czech and English: gettext catalogues (`locale/<lang>/LC_MESSAGES/*.po`,
read and compiled in memory when first needed, so nothing generated is kept in the
repository or needed at install time), the choice of language and time zone, and the
Babel formats of dates and numbers. Pure: no request, no database; server/web/i18n.py
puts it on the pages. See docs/i18n.md."""
