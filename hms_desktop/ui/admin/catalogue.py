"""The admin's catalogue: specialisations, designations, available-time labels and services
(with a description and an image). Add, rename, delete; an entry still in use is not
deleted, and the page says how many records use it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.doctor_records import CatalogueEntry, CatalogueKind
from hms_desktop.domain.errors import DomainError
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.fields import FieldErrors, choose_picture_path, read_picture
from hms_desktop.ui.common import ErrorLabel, RecordTableModel, button_row, primary, record_table
from hms_desktop.ui.tasks import Tasks, friendly_message


def _buddy(label: QLabel, field: QWidget) -> QLabel:
    label.setBuddy(field)
    return label


DESCRIPTION_COLUMN, USES_COLUMN, IMAGE_COLUMN = 1, 2, 3  # only services have 1 and 3


class CataloguePage(QWidget):
    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self._build_table(), 1)
        layout.addLayout(self._build_form())

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Catalogue", self)
        title.setObjectName("SectionTitle")
        self.kind = QComboBox(self)
        for kind in CatalogueKind:
            self.kind.addItem(kind.value.replace("-", " ").capitalize(), kind)
        self.kind.currentIndexChanged.connect(lambda _: self._kind_changed())
        row.addWidget(title)
        row.addStretch(1)
        row.addWidget(_buddy(QLabel("&List:", self), self.kind))
        row.addWidget(self.kind)
        return row

    def _build_table(self) -> QWidget:
        self.model = RecordTableModel(
            [
                ("Name", lambda e: e.name),
                ("Description", lambda e: e.description),
                ("Used by", lambda e: str(e.uses) if e.uses else "—"),
                ("Image", lambda e: "yes" if e.image_id is not None else ""),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=1)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        return self.table

    def _build_form(self) -> QVBoxLayout:
        self.name = QLineEdit(self)
        self.name.setPlaceholderText("Name of a new entry, or the new name of the selected one")
        self.description = QLineEdit(self)
        self.general_error = ErrorLabel(self, name="FormError")
        self.errors = FieldErrors(self.general_error)
        self.form = form = QFormLayout()
        form.addRow("&Name", self.errors.wrap("name", self.name, self))
        self.errors.alias("time", "name")  # an available time's label
        self.description_row = self.errors.wrap("description", self.description, self)
        form.addRow("Descr&iption", self.description_row)
        self.image_button = QPushButton("Set &image…", self)
        self.image_holder = self.errors.wrap("image", self.image_button, self)
        form.addRow("Image", self.image_holder)
        self.add_button = primary(QPushButton("&Add", self))
        self.rename_button = QPushButton("&Rename", self)
        self.delete_button = QPushButton("De&lete", self)
        self.add_button.clicked.connect(self.add_entry)
        self.rename_button.clicked.connect(self.rename_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        self.image_button.clicked.connect(self.pick_image)
        self.name.returnPressed.connect(self.add_entry)
        column = QVBoxLayout()
        column.addLayout(form)
        column.addWidget(self.general_error)
        column.addLayout(button_row(self.delete_button, self.rename_button, self.add_button))
        self._kind_changed(reload=False)
        return column

    # --- loading ---------------------------------------------------------------------------
    def current_kind(self) -> CatalogueKind:
        return CatalogueKind(self.kind.currentData())

    def _kind_changed(self, reload: bool = True) -> None:
        services = self.current_kind() is CatalogueKind.SERVICES
        for widget in (self.description_row, self.image_holder):
            self.form.setRowVisible(widget, services)
        for column in (DESCRIPTION_COLUMN, IMAGE_COLUMN):
            self.table.setColumnHidden(column, not services)
        self.table.setColumnHidden(USES_COLUMN, services)  # nothing links to a service
        self.errors.clear()
        if reload:
            self.reload()

    def start(self) -> None:
        """Load when the admin first opens the page (nothing is asked before)."""
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        kind = self.current_kind()
        self.tasks.run(
            self.backend.catalogue_entries,
            kind,
            on_done=lambda rows: self._show(kind, rows, select_id),
            on_error=self._failed,
        )

    def _show(self, kind: CatalogueKind, rows: list[CatalogueEntry], select: int | None) -> None:
        if kind is not self.current_kind():
            return  # the admin switched lists meanwhile
        self.model.set_rows(rows)
        ids = [row.id for row in rows]
        if select in ids:
            self.table.selectRow(ids.index(select))
        self._selected()

    def selected(self) -> CatalogueEntry | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _selected(self) -> None:
        entry = self.selected()
        for button in (self.rename_button, self.delete_button, self.image_button):
            button.setEnabled(entry is not None)

    # --- actions ---------------------------------------------------------------------------
    def add_entry(self) -> None:
        self.errors.clear()
        kind = self.current_kind()
        description = self.description.text() if kind is CatalogueKind.SERVICES else None
        self.tasks.run(
            self.backend.add_catalogue_entry,
            kind,
            self.name.text(),
            description,
            on_done=self._saved,
            on_error=self._failed,
        )

    def rename_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self.errors.clear()
        kind = self.current_kind()
        description = self.description.text() if kind is CatalogueKind.SERVICES else None
        self.tasks.run(
            self.backend.rename_catalogue_entry,
            kind,
            entry.id,
            self.name.text(),
            description,
            on_done=self._saved,
            on_error=self._failed,
        )

    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self.errors.clear()
        self.tasks.run(
            self.backend.delete_catalogue_entry,
            entry.kind,
            entry.id,
            on_done=lambda _: self.reload(),
            on_error=self._failed,
        )

    def pick_image(self) -> None:
        path = choose_picture_path(self)
        if path:
            self.load_image(path)

    def load_image(self, path: str) -> None:
        """Check the file first (off the GUI thread); only a real picture is sent."""
        entry = self.selected()
        if entry is None:
            return
        self.errors.clear()
        self.tasks.run(
            read_picture,
            path,
            "image",
            on_done=lambda data: self.tasks.run(
                self.backend.set_service_image,
                entry.id,
                data,
                on_done=self._saved,
                on_error=self._failed,
            ),
            on_error=self._failed,
        )

    def _saved(self, entry: CatalogueEntry) -> None:
        self.name.clear()
        self.description.clear()
        self.reload(entry.id)

    def _failed(self, error: Exception) -> None:
        field = error.field if isinstance(error, DomainError) else None
        self.errors.show(friendly_message(error), field)
