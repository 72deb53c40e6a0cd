//! Messages the add-in shows to a person in Outlook, in Russian or English after
//! `Accept-Language`.

use actix_web::{FromRequest, HttpRequest, dev::Payload, http::header};
use std::future::{Ready, ready};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    En,
    Ru,
}

impl Lang {
    /// The first language of `Accept-Language` that we speak; English otherwise.
    pub fn from_accept_language(value: &str) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in value.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = if tag.starts_with("ru") {
                Lang::Ru
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn of(req: &HttpRequest) -> Lang {
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(Lang::from_accept_language)
            .unwrap_or_default()
    }
}

impl FromRequest for Lang {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Lang::of(req)))
    }
}

/// The message for an error code; `None` for codes without a user-facing text of their own.
pub fn message(code: &str, lang: Lang) -> Option<&'static str> {
    let (en, ru) = match code {
        "invalid_token" => (
            "Your sign-in is missing, expired or not valid. Sign in again.",
            "Вход не выполнен, истёк или недействителен. Войдите снова.",
        ),
        "creator_mismatch" => (
            "You can only create conferences in your own name: the organizer must be the account you signed in with.",
            "Создавать конференции можно только от своего имени: организатором должна быть учётная запись, под которой выполнен вход.",
        ),
        "validation_failed" => (
            "Some conference details are missing or wrong. Check the highlighted fields.",
            "Некоторые параметры конференции не заполнены или заполнены неверно. Проверьте отмеченные поля.",
        ),
        "access_code_required" => (
            "This type of conference needs an access code. Set one and try again.",
            "Для конференции этого типа нужен код доступа. Задайте его и повторите.",
        ),
        "creator_not_found" => (
            "Your address is not registered or not active in eXpress. Ask your administrator to register your account with your primary e-mail address.",
            "Ваш адрес не зарегистрирован или не активен в eXpress. Попросите администратора зарегистрировать учётную запись с основным адресом электронной почты.",
        ),
        "actor_not_found" => (
            "Your address is not registered or not active in eXpress, so the conference cannot be changed in your name. Ask your administrator.",
            "Ваш адрес не зарегистрирован или не активен в eXpress, поэтому изменить конференцию от вашего имени нельзя. Обратитесь к администратору.",
        ),
        "no_users_found" => (
            "None of the participants was found in eXpress. Check the addresses.",
            "Ни один из участников не найден в eXpress. Проверьте адреса.",
        ),
        "invalid_attributes" => (
            "eXpress did not accept the conference details. Check them and try again.",
            "eXpress не принял параметры конференции. Проверьте их и повторите.",
        ),
        "start_at_later_than_end_at" => (
            "The conference must start before it ends.",
            "Начало конференции должно быть раньше её окончания.",
        ),
        "end_at_earlier_than_now" => (
            "The conference end is already in the past. Choose a later time.",
            "Время окончания конференции уже прошло. Выберите более позднее время.",
        ),
        "not_permitted" => (
            "You are not an administrator of this conference, so you cannot change it.",
            "Вы не являетесь администратором этой конференции и не можете её изменить.",
        ),
        "conference_not_found" => (
            "The conference was not found. It may have been deleted.",
            "Конференция не найдена. Возможно, она была удалена.",
        ),
        "multiple_users_found_by_email" => (
            "Several eXpress accounts have the same e-mail address. Ask your administrator to resolve it.",
            "В eXpress несколько учётных записей с одним адресом электронной почты. Обратитесь к администратору.",
        ),
        "multiple_users_found_by_ad_login" => (
            "Several eXpress accounts have the same AD login. Ask your administrator to resolve it.",
            "В eXpress несколько учётных записей с одним логином AD. Обратитесь к администратору.",
        ),
        "bot_auth_failed" => (
            "eXpress refused the meeting server's credentials. Tell your administrator.",
            "eXpress отклонил учётные данные сервера встреч. Сообщите администратору.",
        ),
        "bot_unavailable" => (
            "eXpress cannot be reached right now. Try again in a few minutes; if it persists, tell your administrator.",
            "eXpress сейчас недоступен. Повторите через несколько минут; если ошибка не исчезнет, сообщите администратору.",
        ),
        "bot_timeout" => (
            "eXpress did not answer in time. Try again in a few minutes.",
            "eXpress не ответил вовремя. Повторите через несколько минут.",
        ),
        "bot_error" => (
            "eXpress could not process the request. Tell your administrator if it happens again.",
            "eXpress не смог обработать запрос. Если ошибка повторится, сообщите администратору.",
        ),
        "bot_not_configured" => (
            "Conference booking is not set up on the server yet. Tell your administrator.",
            "Создание конференций ещё не настроено на сервере. Сообщите администратору.",
        ),
        "invalid_grant" => (
            "The sign-in could not be completed: the code is invalid or expired. Sign in again.",
            "Не удалось завершить вход: код недействителен или истёк. Войдите снова.",
        ),
        "adfs_client_rejected" => (
            "AD FS rejected the meeting server's client credentials. Tell your administrator.",
            "AD FS отклонил учётные данные сервера встреч. Сообщите администратору.",
        ),
        "adfs_unavailable" => (
            "AD FS cannot be reached right now. Try again in a few minutes.",
            "AD FS сейчас недоступен. Повторите через несколько минут.",
        ),
        "adfs_request_rejected" => (
            "AD FS did not accept the sign-in request. Sign in again; if it persists, tell your administrator.",
            "AD FS не принял запрос на вход. Войдите снова; если ошибка не исчезнет, сообщите администратору.",
        ),
        "adfs_not_configured" => (
            "Sign-in is not set up on the server yet. Tell your administrator.",
            "Вход ещё не настроен на сервере. Сообщите администратору.",
        ),
        "database_unavailable" => (
            "The meeting server's database does not answer. Try again in a minute; if it persists, tell your administrator.",
            "База данных сервера встреч не отвечает. Повторите через минуту; если ошибка не исчезнет, сообщите администратору.",
        ),
        "idempotency_key_reused" => (
            "This Idempotency-Key was already used for a different request.",
            "Этот Idempotency-Key уже использован для другого запроса.",
        ),
        "idempotency_in_progress" => (
            "The same request is still being processed. Try again in a moment.",
            "Такой же запрос ещё выполняется. Повторите чуть позже.",
        ),
        "too_many_requests" => (
            "Too many requests. Wait a little and try again.",
            "Слишком много запросов. Подождите немного и повторите.",
        ),
        _ => return None,
    };
    Some(match lang {
        Lang::En => en,
        Lang::Ru => ru,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language() {
        assert_eq!(
            Lang::from_accept_language("ru-RU,ru;q=0.9,en;q=0.8"),
            Lang::Ru
        );
        assert_eq!(Lang::from_accept_language("en-US,ru;q=0.5"), Lang::En);
        assert_eq!(Lang::from_accept_language("de-DE, ru;q=0.3"), Lang::Ru);
        assert_eq!(Lang::from_accept_language("fr"), Lang::En);
        assert_eq!(Lang::from_accept_language("en;q=0.2, ru;q=0.8"), Lang::Ru);
    }

    #[test]
    fn every_message_has_both_languages() {
        for code in ["creator_not_found", "bot_timeout", "invalid_token"] {
            assert_ne!(message(code, Lang::En), message(code, Lang::Ru));
        }
    }
}
