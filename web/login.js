if (location.search.includes('wrong')) document.getElementById('wrong').hidden = false;
