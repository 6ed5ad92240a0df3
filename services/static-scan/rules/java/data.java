import java.beans.XMLDecoder;
import java.io.InputStream;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.SAXParserFactory;
import org.w3c.dom.Document;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

class XmlImport {
    Document parse(InputStream in) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        // ruleid: vigil-java-xxe
        DocumentBuilder db = dbf.newDocumentBuilder();
        return db.parse(in);
    }

    void sax(InputStream in) throws Exception {
        SAXParserFactory spf = SAXParserFactory.newInstance();
        // ruleid: vigil-java-xxe
        spf.newSAXParser().parse(in, new org.xml.sax.helpers.DefaultHandler());
    }

    Document parseSafe(InputStream in) throws Exception {
        DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
        dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        // ok: vigil-java-xxe
        return dbf.newDocumentBuilder().parse(in);
    }

    void saxSafe(InputStream in) throws Exception {
        SAXParserFactory spf = SAXParserFactory.newInstance();
        spf.setFeature("http://xml.org/sax/features/external-general-entities", false);
        // ok: vigil-java-xxe
        spf.newSAXParser().parse(in, new org.xml.sax.helpers.DefaultHandler());
    }
}

class Sessions {
    Object restore(InputStream in) throws Exception {
        ObjectInputStream ois = new ObjectInputStream(in);
        // ruleid: vigil-java-unsafe-deserialization
        return ois.readObject();
    }

    Object restoreBean(InputStream in) {
        // ruleid: vigil-java-unsafe-deserialization
        return new XMLDecoder(in).readObject();
    }

    Object config(String text) {
        Yaml yaml = new Yaml();
        // ruleid: vigil-java-unsafe-deserialization
        return yaml.load(text);
    }

    Object restoreFiltered(InputStream in) throws Exception {
        ObjectInputStream ois = new ObjectInputStream(in);
        ois.setObjectInputFilter(ObjectInputFilter.Config.createFilter("com.example.Session;!*"));
        // ok: vigil-java-unsafe-deserialization
        return ois.readObject();
    }

    Object configSafe(String text) {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        // ok: vigil-java-unsafe-deserialization
        return yaml.load(text);
    }
}
