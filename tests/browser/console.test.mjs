// The guide's chapter 5 in a real browser: first sign-in, forced password change, an
// administrator added, a template created with the visual editor and raw HTML mode, the
// preview, history and restore, then the new administrator signs in. Once in English and
// once in Russian; a screenshot of every page lands in test-output/browser/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startXmeet, launch, shot } from './harness.mjs';

const LABELS = {
  en: { signIn: 'Sign in', admins: 'Administrators', templates: 'Templates', addUser: '⊕ Add user', add: 'Add',
    edit: 'Edit', save: 'Save', createTemplate: 'Create template', saveChanges: 'Save changes', history: 'History',
    restore: 'Restore', saved: 'Saved.', link: 'Conference link', signOut: 'Sign out', restored: 'Version 1 restored.' },
  ru: { signIn: 'Войти', admins: 'Администраторы', templates: 'Шаблоны', addUser: '⊕ Добавить пользователя', add: 'Добавить',
    edit: 'Редактировать', save: 'Сохранить', createTemplate: 'Создать шаблон', saveChanges: 'Сохранить изменения',
    history: 'История', restore: 'Восстановить', saved: 'Сохранено.', link: 'Ссылка на конференцию', signOut: 'Выйти',
    restored: 'Версия 1 восстановлена.' },
};

const EVIL = '<img src=x onerror=alert(1)>';

async function flow(lang) {
  const L = LABELS[lang];
  const x = await startXmeet();
  const { browser, page, dialogs, external } = await launch(lang === 'ru' ? 'ru-RU' : 'en-US');
  try {
    // nothing behind the sign-in
    await page.goto(x.base + '/front#/admins');
    await page.waitForSelector('#login-form');
    assert.equal(await page.locator('#login-form button[type=submit]').innerText(), L.signIn);
    await shot(page, `${lang}-01-sign-in`);

    // first sign-in: admin with an empty password, then the forced change
    await page.fill('#login', 'admin');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#password-form');
    await shot(page, `${lang}-02-password-change`);
    await page.fill('#new_password', 'NewPassword-123');
    await page.fill('#repeat_password', 'NewPassword-123');
    await page.click('#password-form button[type=submit]');
    await page.waitForSelector('#admins-table');
    assert.equal(await page.locator('#nav-admins').innerText(), L.admins);
    assert.equal(await page.locator('#nav-templates').innerText(), L.templates);

    // add an administrator whose name is markup: it must stay text
    await page.getByRole('button', { name: L.addUser }).click();
    await page.waitForSelector('#admin-form');
    await page.fill('#admin-login', 'olga');
    await page.fill('#admin-name', EVIL);
    await page.fill('#admin-email', 'olga@example.com');
    await page.fill('#admin-password', 'olga-password-1');
    await shot(page, `${lang}-03-add-admin`);
    await page.getByRole('button', { name: L.add, exact: true }).click();
    await page.waitForSelector('#admins-table tr[data-login="olga"]');
    const cell = page.locator('#admins-table tr[data-login="olga"] td').nth(1);
    assert.equal(await cell.innerText(), EVIL);
    assert.equal(await page.locator('#admins-table img').count(), 0);
    await page.locator('#admins-table tr[data-login="olga"]').getByRole('button', { name: L.edit }).waitFor();
    await shot(page, `${lang}-04-admins`);

    // a template: placeholder button, raw HTML mode, save, preview
    await page.click('#nav-templates');
    await page.waitForSelector('#templates-table');
    await shot(page, `${lang}-05-templates`);
    await page.getByRole('button', { name: L.createTemplate }).click();
    await page.waitForSelector('.jodit-wysiwyg');
    await page.fill('#template-name', 'Corporate invitation');
    await page.fill('#template-locale', 'de');
    await page.click('.jodit-wysiwyg');
    await page.getByRole('button', { name: L.link }).click();
    await page.click('[data-ref="source"] button');
    const source = page.locator('.jodit-source textarea');
    await source.waitFor();
    const before = await source.inputValue();
    assert.match(before, /\{\{\s*conference_link\s*\}\}/);
    await source.fill(before + '\n<p class="added">Added in HTML mode</p>');
    await page.click('[data-ref="source"] button');
    await shot(page, `${lang}-06-editor`);
    await page.getByRole('button', { name: L.saveChanges }).click();
    await page.locator('#message.ok').waitFor();
    assert.ok((await page.locator('#message').innerText()).startsWith(L.saved));
    await page.waitForFunction(() => (document.getElementById('preview').getAttribute('srcdoc') || '').includes('Added in HTML mode'));
    const preview = await page.locator('#preview').getAttribute('srcdoc');
    assert.ok(preview.includes('https://cts.example/join/8f1c2d3e'), preview);
    assert.ok(!preview.includes('{{'), preview);
    await shot(page, `${lang}-07-preview`);

    // edit again → version 2
    await page.click('[data-ref="source"] button');
    const again = await source.inputValue();
    await source.fill(again.replace('Added in HTML mode', 'Second version'));
    await page.click('[data-ref="source"] button');
    await page.getByRole('button', { name: L.saveChanges }).click();
    await page.waitForFunction(() => (document.getElementById('message').textContent || '').includes('2'));

    // history shows version 1; restore it
    await page.getByRole('button', { name: L.history }).click();
    await page.waitForSelector('#history-table tr[data-version="1"]');
    assert.match(await page.locator('#history-table tr[data-version="1"] pre').innerText(), /Added in HTML mode/);
    await shot(page, `${lang}-08-history`);
    await page.locator('#history-table tr[data-version="1"]').getByRole('button', { name: L.restore }).click();
    await page.locator('#message.ok').waitFor();
    assert.equal(await page.locator('#message').innerText(), L.restored);
    await page.waitForSelector('#history-table tr[data-version="2"]');
    assert.match(await page.locator('#history-table tr[data-version="2"] pre').innerText(), /Second version/);

    await page.click('#nav-audit');
    await page.waitForSelector('#audit-table');
    await shot(page, `${lang}-09-audit`);

    // sign out, sign in as the new administrator
    await page.getByRole('button', { name: L.signOut }).click();
    await page.waitForSelector('#login-form');
    await page.fill('#login', 'olga');
    await page.fill('#password', 'olga-password-1');
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#admins-table');
    assert.equal(await page.locator('#who').innerText(), 'olga');
    await shot(page, `${lang}-10-signed-in-as-new-admin`);

    assert.deepEqual(dialogs.filter((d) => d.type === 'alert'), [], 'no script ran from data');
    assert.deepEqual(external, [], 'the console loads nothing from outside');
  } finally {
    await browser.close();
    await x.stop();
  }
}

test('console flow in English', { timeout: 120000 }, () => flow('en'));
test('console flow in Russian shows Russian labels', { timeout: 120000 }, () => flow('ru'));
