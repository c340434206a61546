"""Package installers, run by the `install.sh` of our CK package entries.

Each installer builds everything in a staging folder and moves it into place last, so a failed
install leaves nothing that CK could detect as installed.
"""
