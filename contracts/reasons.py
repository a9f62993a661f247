"""The reason-code catalogue: the one place where codes, severities and texts live.

Codes are part of the public contract (DESIGN.md §5): add new ones, never rename.
Every other module refers to ``ReasonCode`` members, never to bare strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    REJECT = "reject"
    REVIEW = "review"
    WARNING = "warning"
    INFO = "info"


class ReasonCode(StrEnum):
    FILE_EMPTY = "FILE_EMPTY"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    FORMAT_NOT_ALLOWED = "FORMAT_NOT_ALLOWED"
    EXTENSION_MISMATCH = "EXTENSION_MISMATCH"
    FILE_CORRUPT = "FILE_CORRUPT"
    FILE_NAME_INVALID = "FILE_NAME_INVALID"
    FILE_NAME_TEMPLATE = "FILE_NAME_TEMPLATE"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_SIGNED = "PDF_SIGNED"
    TOO_MANY_PAGES = "TOO_MANY_PAGES"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    DUPLICATE_FILE = "DUPLICATE_FILE"
    RESOLUTION_TOO_LOW = "RESOLUTION_TOO_LOW"
    IMAGE_BLURRED = "IMAGE_BLURRED"
    IMAGE_GLARE = "IMAGE_GLARE"
    DOCUMENT_CROPPED = "DOCUMENT_CROPPED"
    UNREADABLE = "UNREADABLE"
    DOC_TYPE_UNKNOWN = "DOC_TYPE_UNKNOWN"
    DOC_TYPE_MISMATCH = "DOC_TYPE_MISMATCH"
    SERIES_NOT_FOUND = "SERIES_NOT_FOUND"
    NUMBER_NOT_FOUND = "NUMBER_NOT_FOUND"
    NUMBER_FORMAT_INVALID = "NUMBER_FORMAT_INVALID"
    CHECKSUM_INVALID = "CHECKSUM_INVALID"
    MRZ_MISMATCH = "MRZ_MISMATCH"
    DECLARED_MISMATCH = "DECLARED_MISMATCH"
    NOT_IN_REGISTRY = "NOT_IN_REGISTRY"
    REGISTRY_NAME_MISMATCH = "REGISTRY_NAME_MISMATCH"
    APPLICANT_NAME_MISMATCH = "APPLICANT_NAME_MISMATCH"
    BIRTH_DATE_MISMATCH = "BIRTH_DATE_MISMATCH"
    DOCUMENT_EXPIRED = "DOCUMENT_EXPIRED"
    DOCUMENT_REVOKED = "DOCUMENT_REVOKED"
    CROSS_DOCUMENT_MISMATCH = "CROSS_DOCUMENT_MISMATCH"
    AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    REGISTRY_UNAVAILABLE = "REGISTRY_UNAVAILABLE"
    PROCESSING_ERROR = "PROCESSING_ERROR"
    STEWARD_DECISION = "STEWARD_DECISION"
    # Added by Sverka beyond DESIGN.md §5: the submission itself cannot be read.
    MANIFEST_INVALID = "MANIFEST_INVALID"
    # Added by Sverka: an under-exposed capture (the fix is more light, not less glare).
    IMAGE_TOO_DARK = "IMAGE_TOO_DARK"
    # Added by Sverka: not in the registry yet, within the registry lag window.
    REGISTRY_PENDING = "REGISTRY_PENDING"


@dataclass(frozen=True)
class ReasonSpec:
    severity: Severity
    resubmit: bool  # the applicant can fix it by uploading again
    message: str  # Russian, shown to the applicant
    action: str  # Russian, what the applicant should do
    message_en: str


_RESCAN = "Загрузите чёткий скан или фото всего документа."

CATALOGUE: dict[ReasonCode, ReasonSpec] = {
    ReasonCode.FILE_EMPTY: ReasonSpec(
        Severity.REJECT, True, "Файл пустой (0 байт).",
        "Загрузите файл документа ещё раз.", "The file is empty."),
    ReasonCode.FILE_TOO_LARGE: ReasonSpec(
        Severity.REJECT, True, "Файл больше допустимого размера (5 МБ).",
        "Уменьшите размер файла (например, сохраните скан в JPEG) и загрузите снова.",
        "The file is larger than the limit."),
    ReasonCode.FORMAT_NOT_ALLOWED: ReasonSpec(
        Severity.REJECT, True, "Формат файла не поддерживается.",
        "Загрузите документ в формате PDF, JPEG или PNG.", "The file format is not allowed."),
    ReasonCode.EXTENSION_MISMATCH: ReasonSpec(
        Severity.WARNING, False, "Расширение файла не соответствует его содержимому.",
        "В следующий раз сохраняйте файл с правильным расширением.",
        "The file extension does not match its content."),
    ReasonCode.FILE_CORRUPT: ReasonSpec(
        Severity.REJECT, True, "Файл повреждён и не открывается.",
        "Сохраните документ заново и загрузите исправный файл.", "The file cannot be opened."),
    ReasonCode.FILE_NAME_INVALID: ReasonSpec(
        Severity.REJECT, True, "Файл не найден в заявке или указан недопустимый путь.",
        "Загрузите файл документа ещё раз.", "The manifest names a path or a missing file."),
    ReasonCode.FILE_NAME_TEMPLATE: ReasonSpec(
        Severity.WARNING, False, "Имя файла не соответствует шаблону «ФИО_ТипДокумента_Дата».",
        "В следующий раз называйте файл по шаблону, например «Иванова_Паспорт_2015-01-01.pdf».",
        "The file name does not follow the template."),
    ReasonCode.PDF_ENCRYPTED: ReasonSpec(
        Severity.REJECT, True, "PDF-файл защищён паролем.",
        "Снимите защиту паролем и загрузите файл снова.", "The PDF is password-protected."),
    ReasonCode.PDF_SIGNED: ReasonSpec(
        Severity.INFO, False, "PDF-файл содержит электронную подпись.",
        "Действий не требуется.", "The PDF carries a digital signature."),
    ReasonCode.TOO_MANY_PAGES: ReasonSpec(
        Severity.REJECT, True, "В файле слишком много страниц.",
        "Загрузите только страницы этого документа.", "The file has too many pages."),
    ReasonCode.IMAGE_TOO_LARGE: ReasonSpec(
        Severity.REJECT, True, "Изображение слишком большое по числу пикселей.",
        "Уменьшите разрешение изображения (достаточно 300 dpi) и загрузите снова.",
        "The image has too many pixels."),
    ReasonCode.DUPLICATE_FILE: ReasonSpec(
        Severity.REVIEW, False, "Такой же файл уже загружен другим заявителем.",
        "Дождитесь проверки специалистом.", "The same file was submitted by another applicant."),
    ReasonCode.RESOLUTION_TOO_LOW: ReasonSpec(
        Severity.REJECT, True, "Разрешение скана слишком низкое, текст не читается.",
        "Отсканируйте документ с разрешением не ниже 200 dpi. " + _RESCAN,
        "The resolution is too low."),
    ReasonCode.IMAGE_BLURRED: ReasonSpec(
        Severity.REJECT, True, "Изображение размыто (не в фокусе).",
        "Сфотографируйте документ ещё раз, держа камеру неподвижно. " + _RESCAN,
        "The image is out of focus."),
    ReasonCode.IMAGE_GLARE: ReasonSpec(
        Severity.REJECT, True, "На изображении блики или тени закрывают текст.",
        "Сфотографируйте документ при равномерном освещении, без вспышки. " + _RESCAN,
        "Glare or shadow covers the document."),
    ReasonCode.DOCUMENT_CROPPED: ReasonSpec(
        Severity.REJECT, True, "Документ обрезан: часть его не попала в кадр.",
        "Сфотографируйте документ целиком, с полями по краям. " + _RESCAN,
        "Part of the document is outside the image."),
    ReasonCode.UNREADABLE: ReasonSpec(
        Severity.REJECT, True, "Текст документа не удаётся прочитать.",
        _RESCAN, "The text cannot be read with enough confidence."),
    ReasonCode.DOC_TYPE_UNKNOWN: ReasonSpec(
        Severity.REVIEW, False, "Не удалось определить вид документа.",
        "Дождитесь проверки специалистом.", "The document type cannot be determined."),
    ReasonCode.DOC_TYPE_MISMATCH: ReasonSpec(
        Severity.WARNING, False, "Загруженный документ не соответствует выбранному виду.",
        "Проверьте, что документ загружен в правильный раздел.",
        "The declared type differs from the detected one."),
    ReasonCode.SERIES_NOT_FOUND: ReasonSpec(
        Severity.REJECT, True, "Не удалось найти серию документа.",
        "Загрузите скан страницы, на которой видны серия и номер. " + _RESCAN,
        "The series was not found."),
    ReasonCode.NUMBER_NOT_FOUND: ReasonSpec(
        Severity.REJECT, True, "Не удалось найти номер документа.",
        "Загрузите скан страницы, на которой видны серия и номер. " + _RESCAN,
        "The number was not found."),
    ReasonCode.NUMBER_FORMAT_INVALID: ReasonSpec(
        Severity.REJECT, False, "Серия или номер не соответствуют формату документа.",
        "Проверьте, что загружен подлинный документ нужного вида.",
        "The series or number does not fit the document format."),
    ReasonCode.CHECKSUM_INVALID: ReasonSpec(
        Severity.REJECT, False, "Контрольная сумма номера не сходится.",
        "Проверьте номер документа; при ошибке в документе обратитесь в выдавший орган.",
        "A check digit fails."),
    ReasonCode.MRZ_MISMATCH: ReasonSpec(
        Severity.REJECT, False, "Машиночитаемая зона не совпадает с данными документа.",
        "Обратитесь в орган, выдавший документ.", "The MRZ and the printed fields disagree."),
    ReasonCode.DECLARED_MISMATCH: ReasonSpec(
        Severity.REJECT, True, "Данные, введённые в заявке, не совпадают с данными документа.",
        "Исправьте серию, номер или дату в заявке либо загрузите нужный документ.",
        "What the applicant typed differs from the scan."),
    ReasonCode.NOT_IN_REGISTRY: ReasonSpec(
        Severity.REJECT, False, "Документ с такими серией и номером не найден в реестре.",
        "Проверьте серию и номер и загрузите чёткий скан документа.",
        "No registry record with this type, series and number."),
    ReasonCode.REGISTRY_NAME_MISMATCH: ReasonSpec(
        Severity.REJECT, False, "В реестре документ с этим номером выдан другому человеку.",
        "Проверьте, что загружен ваш документ.", "The registry record belongs to another person."),
    ReasonCode.APPLICANT_NAME_MISMATCH: ReasonSpec(
        Severity.REJECT, False, "ФИО в документе не совпадает с ФИО заявителя.",
        "Загрузите свой документ; при смене фамилии приложите подтверждающий документ.",
        "The name on the document is not the applicant's."),
    ReasonCode.BIRTH_DATE_MISMATCH: ReasonSpec(
        Severity.REJECT, False, "Дата рождения в документе не совпадает с указанной в заявке.",
        "Проверьте дату рождения в заявке.", "The birth date differs from the applicant's."),
    ReasonCode.DOCUMENT_EXPIRED: ReasonSpec(
        Severity.REJECT, False, "Срок действия документа истёк.",
        "Загрузите действующий документ.", "The validity ended before the check date."),
    ReasonCode.DOCUMENT_REVOKED: ReasonSpec(
        Severity.REJECT, False, "Документ аннулирован в реестре.",
        "Обратитесь в организацию, выдавшую документ.", "The registry marks the record revoked."),
    ReasonCode.CROSS_DOCUMENT_MISMATCH: ReasonSpec(
        Severity.REVIEW, False, "Документы в заявке оформлены на разных людей.",
        "Дождитесь проверки специалистом; при смене фамилии приложите подтверждающий документ.",
        "Documents of one submission name different people."),
    ReasonCode.AMBIGUOUS_MATCH: ReasonSpec(
        Severity.REVIEW, False, "В реестре найдено несколько похожих записей.",
        "Дождитесь проверки специалистом.", "Several registry records fit about equally."),
    ReasonCode.LOW_CONFIDENCE: ReasonSpec(
        Severity.REVIEW, False, "Данные документа распознаны неуверенно.",
        "Дождитесь проверки специалистом.", "A close but not certain match."),
    ReasonCode.REGISTRY_UNAVAILABLE: ReasonSpec(
        Severity.REVIEW, False, "Реестр временно недоступен, проверка будет повторена.",
        "Дождитесь повторной проверки; действий не требуется.",
        "The registry could not be queried."),
    ReasonCode.PROCESSING_ERROR: ReasonSpec(
        Severity.REVIEW, False, "При обработке документа произошла ошибка.",
        "Дождитесь проверки специалистом; действий не требуется.",
        "Processing failed; a person will check the document."),
    ReasonCode.STEWARD_DECISION: ReasonSpec(
        Severity.INFO, False, "Решение принято специалистом.",
        "Действий не требуется.", "A data steward decided this verdict."),
    ReasonCode.MANIFEST_INVALID: ReasonSpec(
        Severity.REVIEW, False, "Заявка повреждена: не удалось прочитать её описание.",
        "Дождитесь проверки специалистом; при необходимости с вами свяжутся.",
        "The submission manifest is missing, not JSON, or misses required fields."),
    ReasonCode.IMAGE_TOO_DARK: ReasonSpec(
        Severity.REJECT, True, "Изображение слишком тёмное, текст плохо различим.",
        "Сфотографируйте документ при хорошем освещении (днём у окна или под яркой лампой). "
        + _RESCAN, "The image is too dark."),
    ReasonCode.REGISTRY_PENDING: ReasonSpec(
        Severity.REVIEW, False,
        "Документ пока не найден в реестре: сведения о новых документах поступают с задержкой.",
        "Дождитесь повторной проверки после обновления реестра; действий не требуется.",
        "Not in the registry yet; re-checked when the next registry snapshot lands."),
}


def spec(code: ReasonCode) -> ReasonSpec:
    return CATALOGUE[code]
