"""For ``scrapyd-deploy`` only, which builds the project egg with ``setup.py bdist_egg``.

``pip install`` reads everything from pyproject.toml (this file adds nothing to it). The egg
for Scrapyd carries only the ``scrapy`` entry point (``settings = wicnews.settings``): the
code is the wicnews installed next to Scrapyd, because its data files (sources, topics,
migrations) cannot be read from inside a zipped egg.
"""

from setuptools import setup
from setuptools.command.bdist_egg import bdist_egg


class SettingsOnlyEgg(bdist_egg):
    def run(self):
        self.distribution.packages = []
        self.distribution.package_data = {}
        self.distribution.include_package_data = False
        super().run()


setup(cmdclass={"bdist_egg": SettingsOnlyEgg})
