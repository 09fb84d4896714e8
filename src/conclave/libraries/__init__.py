"""Content libraries: folders of uploaded files, downloadable and shareable into meetings."""
