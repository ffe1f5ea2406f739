"""/start and /lang: greet the user and let them pick Chinese or English."""

from __future__ import annotations

from dialogs.core.base import Dialog, Trigger
from dialogs.core.callback import Press
from dialogs.core.commands import refresh_command_menu
from dialogs.core.menu import show_menu
from dialogs.people.access import redeem
from storage.users import set_language

LANG_WORDS = {"zh": "zh", "中文": "zh", "汉语": "zh", "chinese": "zh", "en": "en", "english": "en", "英文": "en", "英语": "en"}


class Welcome(Dialog):
    """Asks for a language, remembers it, and shows the main menu."""

    name = "welcome"
    command = "lang"
    states = ["choosing_language", "done"]
    transitions = [
        {"trigger": "choose", "source": "choosing_language", "dest": "done", "after": "remember_language"},
    ]
    choose: Trigger
    initial = "choosing_language"
    final = frozenset({"done"})

    def begin(self, args: str) -> None:
        """/start greets the user (using an invitation link if they came by one) and offers the two
        languages; /lang offers them, or switches at once to the one it names (/lang en, /lang 中文)."""
        starting = self.ctx.event.command == "start"
        named = None if starting else LANG_WORDS.get(args.strip().lower())
        if named:
            self.choose(named)
            return
        if starting and args.strip():
            redeem(self.ctx, args)
        self.ask("welcome" if starting else "choose_language")

    def ask(self, key: str) -> None:
        self.ctx.say(key, [[self.ctx.button("lang_zh", "lang:zh"), self.ctx.button("lang_en", "lang:en")]], name=self.ctx.user.name)

    def on_text(self, text: str) -> None:
        """Accepts a typed language name; anything else gets the question again."""
        lang = LANG_WORDS.get(text.strip().lower())
        if lang:
            self.choose(lang)
        else:
            self.ask("choose_language")

    def on_press(self, press: Press) -> bool:
        """Stores the chosen language and shows the menu in it."""
        if press.verb != "lang" or press.arg not in ("zh", "en"):
            return False
        self.choose(press.arg)
        return True

    def remember_language(self, lang: str) -> None:
        set_language(self.ctx.session, self.ctx.user, lang)
        self.ctx.say("language_set")
        refresh_command_menu(self.ctx, self.ctx.user.id, lang, self.ctx.roles)
        show_menu(self.ctx)
